// Ingest end to end inside the cloud: gateway publishes over MQTT → events/incidents committed →
// ack on the gateway's ack topic → incident on REST and socket.io. Replays and bad input included.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { io as ioClient, type Socket } from 'socket.io-client';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, topicFor, type AckMessage } from '@gridwatch/protocol';
import { startCloud, type Cloud, type Incident } from '../src/index.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';

const GW = { gatewayId: 'gw-ft-01', site: 'sz-futian', secret: 'futian-secret-01' };
const EVENTS = topicFor(GW, 'events');

let cloud: Cloud;
let gateway: MqttClient;
let socket: Socket;
const acks: AckMessage[] = [];
const live: Incident[] = [];

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
  gateway = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  gateway.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    assert.ok(ack.ok, 'the cloud sends only valid acks');
    acks.push(ack.value);
  });
  await gateway.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
  socket = ioClient(cloud.httpUrl, { transports: ['websocket'] });
  socket.on('incident', (incident: Incident) => live.push(incident));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
});

after(async () => {
  socket.close();
  await gateway.endAsync();
  await cloud.stop();
});

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cloud.httpUrl}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function count(table: string): Promise<number> {
  const rows = await cloud.store.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

async function rejectedTotal(): Promise<number> {
  return (await cloud.metrics.rejected.get()).values.reduce((sum, v) => sum + v.value, 0);
}

function ackFor(eventId: string, after = 0): Promise<AckMessage> {
  return eventually(`ack for ${eventId}`, () => acks.slice(after).find((a) => a.eventIds.includes(eventId) || a.rejected?.some((r) => r.id === eventId)));
}

test('a raise becomes an incident, is acked after commit and pushed live', async () => {
  const event = alarmEvent(GW.gatewayId, 1);
  await gateway.publishAsync(EVENTS, encodeMessage('events', eventsMessage(GW.gatewayId, [event])), { qos: 1 });
  const ack = await ackFor(event.id);
  assert.deepEqual(ack.eventIds, [event.id]);
  assert.equal(ack.v, SCHEMA_VERSION);

  const pushed = await eventually('socket.io incident', () => live.find((i) => i.firstEventId === event.id));
  const { status, body } = await getJson<{ incidents: Incident[] }>('/api/v1/incidents');
  assert.equal(status, 200);
  assert.equal(body.incidents.length, 1);
  const incident = body.incidents[0]!;
  assert.deepEqual(incident, pushed);
  assert.equal(incident.gatewayId, GW.gatewayId);
  assert.equal(incident.site, GW.site);
  assert.equal(incident.deviceId, 'smoke-01');
  assert.equal(incident.alarmType, 'smoke');
  assert.equal(incident.level, 2);
  assert.equal(incident.status, 'raised');
  assert.equal(incident.addressId, 'SZ-FT-0001-0203');
  assert.equal(incident.occurrences, 1);
  assert.equal(incident.raisedEdgeTime, event.edgeTime);
  assert.equal(typeof incident.raisedAt, 'number');
  assert.equal(incident.clearedAt, null);
  const one = await getJson<Incident>(`/api/v1/incidents/${incident.id}`);
  assert.deepEqual(one, { status: 200, body: incident });
  assert.equal((await getJson(`/api/v1/incidents/${incident.id + 1000}`)).status, 404);
});

test('the same message again is acked again but not re-applied', async () => {
  const event = alarmEvent(GW.gatewayId, 1);
  const before = acks.length;
  const liveBefore = live.length;
  await gateway.publishAsync(EVENTS, encodeMessage('events', eventsMessage(GW.gatewayId, [event])), { qos: 1 });
  const ack = await ackFor(event.id, before);
  assert.deepEqual(ack.eventIds, [event.id]);
  assert.equal(await count('events'), 1);
  assert.equal(await count('incidents'), 1);
  const { body } = await getJson<{ incidents: Incident[] }>('/api/v1/incidents');
  assert.equal(body.incidents[0]?.occurrences, 1);
  assert.equal(live.length, liveBefore, 'no live update for a replay');
  assert.equal((await cloud.metrics.eventsDuplicate.get()).values[0]?.value, 1);
});

test('bad messages are dead-lettered with a reason naming the field, and ingest carries on', async () => {
  const rejectedBefore = await rejectedTotal();
  await gateway.publishAsync(EVENTS, '{"v":1,"events":[', { qos: 1 });
  await gateway.publishAsync(EVENTS, JSON.stringify({ ...eventsMessage(GW.gatewayId, [alarmEvent(GW.gatewayId, 2)]), v: 2 }), { qos: 1 });
  const outOfRange = alarmEvent(GW.gatewayId, 3, { level: 9 });
  const good = alarmEvent(GW.gatewayId, 4, { level: 1, reason: 'smoke rising fast' });
  // One bad event in a good batch: the good one is kept, the bad one refused by id.
  await gateway.publishAsync(EVENTS, JSON.stringify(eventsMessage(GW.gatewayId, [outOfRange, good])), { qos: 1 });

  const ack = await ackFor(good.id);
  assert.deepEqual(ack.eventIds, [good.id]);
  assert.equal(ack.rejected?.length, 1);
  assert.equal(ack.rejected?.[0]?.id, outOfRange.id);
  assert.match(ack.rejected?.[0]?.reason ?? '', /\/events\/0\/level/);

  const letters = await eventually('three dead letters', async () => {
    const rows = await cloud.store.query<{ reason: string; gateway_id: string; topic: string; event_id: string | null }>(
      'SELECT reason, gateway_id, topic, event_id FROM dead_letters ORDER BY id',
    );
    return rows.length === 3 ? rows : undefined;
  });
  assert.match(letters[0]!.reason, /not JSON/);
  assert.match(letters[1]!.reason, /schema version 2/);
  assert.match(letters[2]!.reason, /\/events\/0\/level/);
  assert.equal(letters[2]!.event_id, outOfRange.id);
  for (const letter of letters) {
    assert.equal(letter.gateway_id, GW.gatewayId);
    assert.equal(letter.topic, EVENTS);
  }
  assert.equal(await rejectedTotal(), rejectedBefore + 3);
  const byReason = Object.fromEntries((await cloud.metrics.rejected.get()).values.map((v) => [v.labels.reason, v.value]));
  assert.deepEqual(byReason, { json: 1, version: 1, event_schema: 1 });

  // The good event was applied: same source, more urgent → one more occurrence, level 1.
  const updated = await eventually('live update', () => live.find((i) => i.occurrences === 2));
  assert.equal(updated.level, 1);
  assert.equal(updated.reason, 'smoke rising fast');
  assert.equal(await count('events'), 2);
});

test('a level-1 alarm that clears by itself stays open as returned, unacknowledged (ISA-18.2)', async () => {
  const clear = alarmEvent(GW.gatewayId, 5, { action: 'clear', level: 5, reason: 'smoke below threshold' });
  await gateway.publishAsync(EVENTS, encodeMessage('events', eventsMessage(GW.gatewayId, [clear])), { qos: 1 });
  await ackFor(clear.id);
  const returned = await eventually('returned incident', () => live.find((i) => i.alarmState === 'returned'));
  assert.equal(typeof returned.clearedAt, 'number');
  assert.equal(returned.status, 'raised', 'still waiting for a human');
  assert.equal(returned.open, true);
  const { body } = await getJson<{ incidents: Incident[] }>('/api/v1/incidents?status=cleared');
  assert.deepEqual(body.incidents, []);
});

test('status updates the gateway; telemetry keeps the latest value per point', async () => {
  await gateway.publishAsync(topicFor(GW, 'status'), encodeMessage('status', { v: SCHEMA_VERSION, gatewayId: GW.gatewayId, state: 'online', t: Date.now() }), { qos: 1 });
  await gateway.publishAsync(
    topicFor(GW, 'telemetry'),
    encodeMessage('telemetry', {
      v: SCHEMA_VERSION,
      gatewayId: GW.gatewayId,
      seq: 1,
      sentAt: Date.now(),
      readings: [
        { deviceId: 'gas-07', point: 'lel_percent', value: 12, t: 2000 },
        { deviceId: 'gas-07', point: 'lel_percent', value: 9, t: 1000 },
      ],
    }),
    { qos: 1 },
  );
  await eventually('gateway online', async () => {
    const rows = await cloud.store.query<{ status: string }>('SELECT status FROM gateways WHERE id = $1', [GW.gatewayId]);
    return rows[0]?.status === 'online' ? true : undefined;
  });
  const latest = await eventually('telemetry', () => cloud.ingest.latest.get(GW.gatewayId, 'gas-07', 'lel_percent'));
  assert.deepEqual(latest, { value: 12, t: 2000 });
});
