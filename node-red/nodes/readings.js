// "gateway readings": the latest value of each point a gateway reports, polled from the cloud;
// one msg per point whose value changed (and for every point on an input msg).
'use strict';

module.exports = function register(RED) {
  function ReadingsNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cloud = RED.nodes.getNode(config.cloud);
    const intervalMs = Math.max(1, Number(config.intervalS) || 10) * 1000;
    const last = new Map();
    let timer = null;

    if (!cloud) {
      node.status({ fill: 'red', shape: 'ring', text: 'no cloud configured' });
      return;
    }

    async function poll(all) {
      const query = { gatewayId: config.gatewayId };
      if (config.deviceId) query.deviceId = config.deviceId;
      const body = await cloud.client.readings(query);
      const readings = (body && body.readings) || [];
      let changed = 0;
      for (const reading of readings) {
        const key = `${reading.deviceId}/${reading.point}`;
        const previous = last.get(key);
        last.set(key, reading);
        if (!all && previous && previous.value === reading.value && previous.t === reading.t) continue;
        changed++;
        node.send({ topic: key, payload: reading.value, reading: { ...reading, gatewayId: config.gatewayId } });
      }
      node.status({ fill: 'green', shape: 'dot', text: `${readings.length} points, ${changed} new` });
    }

    function schedule() {
      timer = setTimeout(() => {
        poll(false)
          .catch((err) => {
            node.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 40) });
            node.warn(`gateway readings: ${err.message}`);
          })
          .finally(() => {
            if (timer) schedule();
          });
      }, intervalMs);
    }

    if (!config.gatewayId) node.error('gateway readings: set the gateway id');
    else schedule();

    node.on('input', (msg, send, done) => {
      poll(true).then(() => done(), done);
    });
    node.on('close', () => {
      clearTimeout(timer);
      timer = null;
    });
  }

  RED.nodes.registerType('gridwatch-readings', ReadingsNode);
};
