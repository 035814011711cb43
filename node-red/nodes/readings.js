// "gateway readings": the latest value of each point a gateway reports, polled from the cloud.
// Sends one msg per point whose *value* changed since it was last sent (a new timestamp with the
// same value is no change: a meter polled every second would otherwise flood the flow), optionally
// repeats an unchanged value every `resendS` seconds, and sends every point on an input msg.
'use strict';

module.exports = function register(RED) {
  function ReadingsNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cloud = RED.nodes.getNode(config.cloud);
    const intervalMs = Math.max(1, Number(config.intervalS) || 10) * 1000;
    const resendMs = Math.max(0, Number(config.resendS) || 0) * 1000;
    /** Per point: the value last sent and when. */
    const sent = new Map();
    let timer = null;

    if (!cloud) {
      node.status({ fill: 'red', shape: 'ring', text: 'no cloud configured' });
      return;
    }

    function due(key, reading, all, now) {
      const previous = sent.get(key);
      if (all || !previous) return true;
      if (previous.value !== reading.value) return true;
      return resendMs > 0 && now - previous.at >= resendMs;
    }

    async function poll(all) {
      const query = { gatewayId: config.gatewayId };
      if (config.deviceId) query.deviceId = config.deviceId;
      const body = await cloud.client.readings(query);
      const readings = (body && body.readings) || [];
      const now = Date.now();
      let changed = 0;
      for (const reading of readings) {
        const key = `${reading.deviceId}/${reading.point}`;
        if (!due(key, reading, all, now)) continue;
        sent.set(key, { value: reading.value, at: now });
        changed++;
        node.send({ topic: key, payload: reading.value, reading: { ...reading, gatewayId: config.gatewayId } });
      }
      node.status({ fill: 'green', shape: 'dot', text: `${readings.length} points, ${changed} sent` });
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
