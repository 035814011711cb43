// "incident action": takes a lifecycle action on an incident (acknowledge, on site, resolve …) and
// acks the dispatch message that brought it, so the queue does not deliver it again.
'use strict';

const ACTIONS = ['acknowledge', 'assign', 'dispatch', 'on_site', 'resolve', 'close', 'false_alarm', 'test', 'note'];
// 'none': no lifecycle action, only ack the dispatch message (an update the flow has seen).
const ACK_ONLY = 'none';

module.exports = function register(RED) {
  function IncidentActionNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const cloud = RED.nodes.getNode(config.cloud);
    const ackLease = config.ackLease !== false;

    node.on('input', async (msg, send, done) => {
      if (!cloud) return done(new Error('incident action: choose a GridWatch cloud configuration node'));
      const action = msg.action || config.action;
      if (action !== ACK_ONLY && !ACTIONS.includes(action)) return done(new Error(`incident action: action must be one of ${[...ACTIONS, ACK_ONLY].join(', ')}, got "${action}"`));
      const lease = msg.gridwatch || {};
      const incidentId = Number(lease.incidentId || (msg.payload && msg.payload.id) || msg.incidentId);
      if (!Number.isInteger(incidentId) || incidentId < 1) return done(new Error('incident action: msg.payload.id (or msg.gridwatch.incidentId) must be an incident id'));
      const body = { action, actor: msg.actor || cloud.actor, note: msg.note || config.note || undefined, unitId: msg.unitId || undefined };
      try {
        let incident = msg.payload;
        try {
          if (action !== ACK_ONLY) incident = await cloud.client.action(incidentId, body);
        } catch (err) {
          // 409: someone already moved the incident on; the message is handled all the same.
          if (err.status !== 409) throw err;
          node.warn(`incident ${incidentId}: ${err.message}`);
          incident = await cloud.client.incident(incidentId);
        }
        if (ackLease && lease.messageId && lease.leaseToken) await cloud.client.ack(lease.messageId, lease.leaseToken);
        node.status({ fill: 'green', shape: 'dot', text: `${action} #${incidentId}` });
        send({ ...msg, payload: incident });
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 40) });
        if (ackLease && lease.messageId && lease.leaseToken) {
          // Give it back with a short delay: the queue redelivers it rather than waiting for the lease.
          await cloud.client.nack(lease.messageId, lease.leaseToken, err.message, 5000).catch(() => undefined);
        }
        done(err);
      }
    });
  }

  RED.nodes.registerType('gridwatch-incident-action', IncidentActionNode);
};
