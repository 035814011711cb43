// The GridWatch Node-RED nodes in a real Node-RED runtime (node-red-node-test-helper) against a
// running cloud: an incident raised through the cloud's broker reaches "incidents in", "incident
// action" acknowledges it and acks its dispatch message, and the cloud shows both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import helper from 'node-red-node-test-helper';
import { SCHEMA_VERSION, encodeMessage, eventIdFor, topicFor } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud, type Incident } from '@gridwatch/cloud';

const require = createRequire(import.meta.url);
const cloudNode = require('../nodes/gridwatch-cloud.js');
const incidentsIn = require('../nodes/incidents-in.js');
const incidentAction = require('../nodes/incident-action.js');
const readingsNode = require('../nodes/readings.js');

const ADMIN_TOKEN = 'admin-token-for-node-red-test';
const GATEWAY = { gatewayId: 'gw-nodered', site: 'futian-test', secret: 'gateway-secret-nodered' };
let cloud: Cloud;
let apiKey: string;

helper.init(require.resolve('node-red'));

before(async () => {
  cloud = await startCloud({ httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent', adminToken: ADMIN_TOKEN });
  await cloud.gateways.addGateway(GATEWAY);
  const response = await fetch(`${cloud.httpUrl}/api/v1/dispatch/consumers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'node-red', name: 'Node-RED dispatch flow', units: ['*'] }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  apiKey = ((await response.json()) as { apiKey: string }).apiKey;
  assert.ok(apiKey, 'the consumer key is returned once');
  await new Promise<void>((resolve) => helper.startServer(resolve));
});

after(async () => {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await cloud.stop();
});

async function raiseSmokeAlarm(seq: number, deviceId: string): Promise<void> {
  const client = await mqtt.connectAsync(cloud.mqttUrl, { username: GATEWAY.gatewayId, password: GATEWAY.secret, clientId: `${GATEWAY.gatewayId}-test-${seq}` });
  const event = { id: eventIdFor(GATEWAY.gatewayId, seq), seq, deviceId, profileId: 'generic/smoke-mqtt', alarmType: 'smoke', action: 'raise' as const, level: 1, reason: 'Smoke detector in alarm', edgeTime: Date.now() };
  await client.publishAsync(topicFor({ site: GATEWAY.site, gatewayId: GATEWAY.gatewayId }, 'events'), encodeMessage('events', { v: SCHEMA_VERSION, gatewayId: GATEWAY.gatewayId, sentAt: Date.now(), events: [event] }), { qos: 1 });
  await client.endAsync();
}

test('incidents in → incident action acknowledges an incident raised in the cloud and acks its dispatch message', async () => {
  const flow = [
    { id: 'cfg', type: 'gridwatch-cloud', url: cloud.httpUrl, actor: 'node-red-flow' },
    { id: 'in', type: 'gridwatch-incidents-in', cloud: 'cfg', ackMode: 'manual', max: 10, leaseS: 30, waitMs: 2000, wires: [['act']] },
    { id: 'act', type: 'gridwatch-incident-action', cloud: 'cfg', action: 'acknowledge', note: 'taken by the dispatch centre', ackLease: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([cloudNode, incidentsIn, incidentAction], flow, { cfg: { apiKey } });
  const out = helper.getNode('out');
  const acknowledged = new Promise<{ payload: Incident; gridwatch: { messageId: number } }>((resolve) => out.on('input', resolve));

  await raiseSmokeAlarm(1, 'smoke-nr-1');
  const msg = await Promise.race([acknowledged, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no acknowledged incident within 15 s')), 15_000))]);
  assert.equal(msg.payload.deviceId, 'smoke-nr-1');
  assert.equal(msg.payload.status, 'acknowledged');

  const incident = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${msg.payload.id}`)).json()) as Incident;
  assert.equal(incident.status, 'acknowledged', 'the cloud shows the incident acknowledged');
  const audit = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${msg.payload.id}/audit`)).json()) as { audit: { actor: string; note: string }[] };
  assert.ok(audit.audit.some((row) => row.actor === 'node-red-flow' && row.note === 'taken by the dispatch centre'), JSON.stringify(audit));
  const [message] = await cloud.store.query<{ state: string }>('SELECT state FROM dispatch_messages WHERE id = $1', [msg.gridwatch.messageId]);
  assert.equal(message?.state, 'acked', 'the dispatch message was acked, so it is not delivered again');
  await helper.unload();
});

test('gateway readings sends the latest values the cloud holds for a gateway', async () => {
  const client = await mqtt.connectAsync(cloud.mqttUrl, { username: GATEWAY.gatewayId, password: GATEWAY.secret, clientId: `${GATEWAY.gatewayId}-telemetry` });
  const t = Date.now();
  await client.publishAsync(
    topicFor({ site: GATEWAY.site, gatewayId: GATEWAY.gatewayId }, 'telemetry'),
    encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: GATEWAY.gatewayId, seq: 1, sentAt: t, readings: [{ deviceId: 'gas-nr-1', point: 'gas_lel', value: 12.5, t }] }),
    { qos: 1 },
  );
  await client.endAsync();
  const flow = [
    { id: 'cfg', type: 'gridwatch-cloud', url: cloud.httpUrl },
    { id: 'rd', type: 'gridwatch-readings', cloud: 'cfg', gatewayId: GATEWAY.gatewayId, intervalS: 1, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([cloudNode, readingsNode], flow, { cfg: { apiKey } });
  const msg = await new Promise<{ topic: string; payload: number; reading: { t: number } }>((resolve, reject) => {
    helper.getNode('out').on('input', resolve);
    setTimeout(() => reject(new Error('no reading within 10 s')), 10_000);
  });
  assert.equal(msg.topic, 'gas-nr-1/gas_lel');
  assert.equal(msg.payload, 12.5);
  assert.equal(msg.reading.t, t);
  await helper.unload();
});
