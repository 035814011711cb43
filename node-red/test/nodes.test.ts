// The GridWatch Node-RED nodes in a real Node-RED 4 runtime (node-red-node-test-helper) against a
// running cloud: an incident raised through the cloud's broker reaches "incidents in", "incident
// action" acknowledges it and acks its dispatch message, and the cloud shows both; the example flow
// acknowledges new dispatches only; "gateway readings" sends a point when its value changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import helper from 'node-red-node-test-helper';
import { SCHEMA_VERSION, encodeMessage, eventIdFor, topicFor } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud, type Incident } from '@gridwatch/cloud';
import { eventually } from '../../test/support/eventually.ts';

const require = createRequire(import.meta.url);
const cloudNode = require('../nodes/gridwatch-cloud.js');
const incidentsIn = require('../nodes/incidents-in.js');
const incidentAction = require('../nodes/incident-action.js');
const readingsNode = require('../nodes/readings.js');
const switchNode = require('@node-red/nodes/core/function/10-switch.js');
const exampleFlow = require('../examples/dispatch-acknowledge.json') as Record<string, unknown>[];

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
  const client = await mqtt.connectAsync(cloud.mqttUrl, { username: GATEWAY.gatewayId, password: GATEWAY.secret, clientId: GATEWAY.gatewayId });
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
  // A consumer acts as itself (issue 11): the node's configured actor name is not trusted.
  assert.ok(audit.audit.some((row) => row.actor === 'consumer:node-red' && row.note === 'taken by the dispatch centre'), JSON.stringify(audit));
  const [message] = await cloud.store.query<{ state: string }>('SELECT state FROM dispatch_messages WHERE id = $1', [msg.gridwatch.messageId]);
  assert.equal(message?.state, 'acked', 'the dispatch message was acked, so it is not delivered again');
  await helper.unload();
});

async function publishReading(seq: number, value: number, t: number): Promise<void> {
  const client = await mqtt.connectAsync(cloud.mqttUrl, { username: GATEWAY.gatewayId, password: GATEWAY.secret, clientId: GATEWAY.gatewayId });
  await client.publishAsync(
    topicFor({ site: GATEWAY.site, gatewayId: GATEWAY.gatewayId }, 'telemetry'),
    encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: GATEWAY.gatewayId, seq, sentAt: t, readings: [{ deviceId: 'gas-nr-1', point: 'gas_lel', value, t }] }),
    { qos: 1 },
  );
  await client.endAsync();
  await eventually('the cloud holds the reading', () => cloud.ingest.latest.get(GATEWAY.gatewayId, 'gas-nr-1', 'gas_lel')?.t === t);
}

/** Counts the node's polls (it sets its status after each one) so a test can wait for "polled since". */
function countPolls(nodeId: string): { readonly count: number } {
  const node = helper.getNode(nodeId);
  const counter = { count: 0 };
  const status = node.status.bind(node);
  node.status = (s) => {
    counter.count += 1;
    status(s);
  };
  return counter;
}

async function loadReadings(resendS: number): Promise<{ payloads: number[]; polls: { readonly count: number } }> {
  const flow = [
    { id: 'cfg', type: 'gridwatch-cloud', url: cloud.httpUrl },
    { id: 'rd', type: 'gridwatch-readings', cloud: 'cfg', gatewayId: GATEWAY.gatewayId, intervalS: 1, resendS, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([cloudNode, readingsNode], flow, { cfg: { apiKey } });
  const payloads: number[] = [];
  helper.getNode('out').on<{ payload: number }>('input', (msg) => payloads.push(msg.payload));
  return { payloads, polls: countPolls('rd') };
}

test('gateway readings sends a point when its value changes, not when only its timestamp does', async () => {
  const t = Date.now();
  await publishReading(1, 12.5, t);
  const { payloads, polls } = await loadReadings(0);
  await eventually('the first value', () => payloads.length === 1, 10_000);
  assert.deepEqual(payloads, [12.5]);

  await publishReading(2, 12.5, t + 1000);
  const seen = polls.count;
  await eventually('two polls after the same value arrived', () => polls.count >= seen + 2, 10_000);
  assert.deepEqual(payloads, [12.5], 'a newer reading with the same value is not sent');

  await publishReading(3, 14, t + 2000);
  await eventually('the changed value', () => payloads.length === 2, 10_000);
  assert.deepEqual(payloads, [12.5, 14]);
  await helper.unload();
});

test('gateway readings with a repeat interval sends an unchanged value again', async () => {
  await publishReading(4, 9, Date.now());
  const { payloads } = await loadReadings(1);
  await eventually('the value sent twice', () => payloads.length >= 2, 10_000);
  assert.deepEqual(payloads.slice(0, 2), [9, 9]);
  await helper.unload();
});

async function incidentByDevice(deviceId: string): Promise<Incident> {
  return eventually(`an incident for ${deviceId}`, async () => {
    const body = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents?limit=200`)).json()) as { incidents: Incident[] };
    return body.incidents.find((i) => i.deviceId === deviceId);
  });
}

test('the example flow acknowledges only new dispatches and acks every update without a 409', async () => {
  const flow = exampleFlow.map((n) => {
    if (n.type === 'gridwatch-cloud') return { ...n, url: cloud.httpUrl };
    if (n.type === 'gridwatch-incidents-in') return { ...n, waitMs: 1000 };
    if (n.type === 'debug') return { id: n.id, type: 'helper' };
    return n;
  });
  await helper.load([cloudNode, incidentsIn, incidentAction, switchNode], flow, { 'gw-cloud': { apiKey } });
  const warnings: unknown[] = [];
  for (const id of ['gw-ack', 'gw-seen']) {
    const node = helper.getNode(id);
    const warn = node.warn.bind(node);
    node.warn = (m) => {
      warnings.push(m);
      warn(m);
    };
  }
  await raiseSmokeAlarm(10, 'smoke-nr-flow');
  const incident = await incidentByDevice('smoke-nr-flow');
  await eventually('acknowledged by the flow', async () => ((await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${incident.id}`)).json()) as Incident).status === 'acknowledged', 15_000);
  // Updates: a staff action through the API, then a new occurrence from the device.
  const onSite = await fetch(`${cloud.httpUrl}/api/v1/incidents/${incident.id}/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'on_site', actor: 'worker-1' }) });
  assert.equal(onSite.status, 200, await onSite.clone().text());
  await raiseSmokeAlarm(11, 'smoke-nr-flow');
  await eventually('every dispatch message of the incident acked', async () => {
    const rows = await cloud.store.query<{ kind: string; state: string }>('SELECT kind, state FROM dispatch_messages WHERE incident_id = $1', [incident.id]);
    return rows.length >= 3 && rows.every((r) => r.state === 'acked') ? rows : undefined;
  }, 15_000);
  const audit = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${incident.id}/audit`)).json()) as { audit: { actor: string; action: string }[] };
  assert.equal(audit.audit.filter((row) => row.actor === 'consumer:node-red').length, 1, `one acknowledgement by the flow: ${JSON.stringify(audit.audit)}`);
  assert.deepEqual(warnings, [], 'no 409 (or other) warning from the action nodes');
  await helper.unload();
});
