// Configuration node: where the GridWatch cloud is and the dispatch consumer's API key.
'use strict';
const { createClient } = require('./lib/client.js');

module.exports = function register(RED) {
  function GridwatchCloudNode(config) {
    RED.nodes.createNode(this, config);
    this.url = config.url;
    this.actor = config.actor || 'node-red';
    const apiKey = this.credentials && this.credentials.apiKey;
    /** Shared by the nodes that use this cloud. */
    this.client = createClient({ url: this.url, apiKey });
  }
  RED.nodes.registerType('gridwatch-cloud', GridwatchCloudNode, {
    credentials: { apiKey: { type: 'password' } },
  });
};
