// "incidents in": consumes the cloud's dispatch queue. Claims messages with a lease (long-poll),
// sends one msg per incident change, and acks either at once (auto) or when an "incident action"
// node downstream has handled it (manual) — at-least-once: an unacked lease expires and the cloud
// delivers the message again.
'use strict';

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

module.exports = function register(RED) {
  function IncidentsInNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cloud = RED.nodes.getNode(config.cloud);
    const ackMode = config.ackMode === 'auto' ? 'auto' : 'manual';
    const claimArgs = {
      max: clamp(Number(config.max) || 10, 1, 100),
      leaseS: clamp(Number(config.leaseS) || 60, 1, 3600),
      waitMs: clamp(Number(config.waitMs) || 20000, 0, 30000),
    };
    let stopped = false;
    let controller = null;
    let backoffMs = MIN_BACKOFF_MS;

    if (!cloud) {
      node.status({ fill: 'red', shape: 'ring', text: 'no cloud configured' });
      node.error('incidents in: choose a GridWatch cloud configuration node');
      return;
    }

    async function loop() {
      while (!stopped) {
        controller = new AbortController();
        try {
          node.status({ fill: 'green', shape: 'dot', text: 'listening' });
          const messages = await cloud.client.claim(claimArgs, controller.signal);
          backoffMs = MIN_BACKOFF_MS;
          for (const message of messages) {
            if (stopped) break;
            node.send({
              topic: `gridwatch/incident/${message.incidentId}`,
              payload: message.incident,
              gridwatch: { messageId: message.id, leaseToken: message.leaseToken, kind: message.kind, incidentId: message.incidentId, deliveries: message.deliveries },
            });
            if (ackMode === 'auto') await cloud.client.ack(message.id, message.leaseToken);
          }
        } catch (err) {
          if (stopped) break;
          node.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 40) });
          node.warn(`incidents in: ${err.message}; retrying in ${Math.round(backoffMs / 1000)} s`);
          await sleep(backoffMs);
          backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        }
      }
    }

    const running = loop();
    node.on('close', (removed, done) => {
      stopped = true;
      if (controller) controller.abort();
      running.then(() => done(), () => done());
    });
  }

  function clamp(value, min, max) {
    return Math.min(max, Math.max(min, Math.floor(value)));
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  RED.nodes.registerType('gridwatch-incidents-in', IncidentsInNode);
};
