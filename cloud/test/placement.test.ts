// The cloud owns device placement (issue 11, item 3), end to end through the real broker and
// ingest: a gateway allowed community A that names an address in community B is refused by id with
// a reason, counted and dead-lettered, and no incident appears in B, while the good events of the
// same batch commit; routing follows the address on record, not the edge's claim.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { decodeMessage, encodeMessage, topicFor, type AlarmEvent } from '@gridwatch/protocol';
import { allowCommunities, getPlacement, placeDevice } from '../src/gateways/placement.ts';
import { importAddressesCsv } from '../src/routing/directory.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, createTempDatabase, eventsMessage, eventually, type TempDatabase } from './helpers.ts';

const ADDRESSES = `address_id,building,grid,community,street,district
PA-0001,PA-B1,PA-G1,PL-A,PL-S,PL
PA-0002,PA-B2,PA-G1,PL-A,PL-S,PL
PB-0001,PB-B1,PB-G1,PL-B,PL-S,PL
`;
const GW = { gatewayId: 'gw-place-a', site: 'site-a', secret: 'placement-secret-a1' };
const LEGACY = { gatewayId: 'gw-place-legacy', site: 'site-l', secret: 'placement-secret-l1' };

let db: TempDatabase;
let cloud: Cloud;
let seq = 0;

interface Answers {
  acked: string[];
  rejected: { id: string; reason: string }[];
}

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
  await cloud.gateways.addGateway(LEGACY);
  await cloud.store.transaction(async (tx) => {
    await importAddressesCsv(tx, ADDRESSES);
    await allowCommunities(tx, GW.gatewayId, ['PL-A']);
  });
});

after(async () => {
  await cloud.stop();
  await db.drop();
});

async function listen(client: MqttClient, gw: typeof GW): Promise<Answers> {
  const answers: Answers = { acked: [], rejected: [] };
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    if (!ack.ok) return;
    answers.acked.push(...ack.value.eventIds);
    answers.rejected.push(...(ack.value.rejected ?? []));
  });
  await client.subscribeAsync(topicFor(gw, 'ack'), { qos: 1 });
  return answers;
}

async function send(gw: typeof GW, events: AlarmEvent[]): Promise<Answers> {
  const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
  try {
    const answers = await listen(client, gw);
    await client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, events)), { qos: 1 });
    await eventually('every event answered', () => answers.acked.length + answers.rejected.length >= events.length, 20_000);
    return answers;
  } finally {
    await client.endAsync();
  }
}

async function rejectedCount(label: string): Promise<number> {
  const values = (await cloud.metrics.rejected.get()).values;
  return values.find((v) => v.labels.reason === label)?.value ?? 0;
}

async function incidentAddressOf(eventId: string): Promise<{ address_id: string | null; community: string | null } | undefined> {
  const rows = await cloud.store.query<{ address_id: string | null; community: string | null }>(
    'SELECT i.address_id, i.community FROM events e JOIN incidents i ON i.id = e.incident_id WHERE e.event_id = $1',
    [eventId],
  );
  return rows[0];
}

const ev = (gw: typeof GW, overrides: Partial<AlarmEvent>): AlarmEvent => alarmEvent(gw.gatewayId, ++seq, { level: 2, ...overrides });

test('an event addressed outside the allowed communities is refused by id, counted, dead-lettered; the rest commit', async () => {
  const before = await rejectedCount('foreign_address');
  const good1 = ev(GW, { deviceId: 'smoke-1', addressId: 'PA-0001' });
  const foreign = ev(GW, { deviceId: 'smoke-2', addressId: 'PB-0001' });
  const good2 = ev(GW, { deviceId: 'leak-1', addressId: 'PA-0002', alarmType: 'water_leak' });
  const answers = await send(GW, [good1, foreign, good2]);
  assert.deepEqual([...answers.acked].sort(), [good1.id, good2.id].sort());
  assert.equal(answers.rejected.length, 1);
  assert.equal(answers.rejected[0]?.id, foreign.id);
  assert.match(answers.rejected[0]?.reason ?? '', /PB-0001 lies outside the communities gateway gw-place-a may serve/);
  assert.equal(await rejectedCount('foreign_address'), before + 1);
  const dead = await cloud.store.query<{ reason: string }>('SELECT reason FROM dead_letters WHERE event_id = $1', [foreign.id]);
  assert.equal(dead.length, 1);
  const inB = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE community = 'PL-B'");
  assert.equal(inB[0]?.n, 0, 'no incident reaches community B');
  assert.equal((await incidentAddressOf(good1.id))?.community, 'PL-A');
  assert.equal((await incidentAddressOf(good2.id))?.address_id, 'PA-0002');
  const placement = await getPlacement(cloud.store, GW.gatewayId);
  assert.deepEqual(placement.devices.map((d) => `${d.deviceId}@${d.addressId}`), ['leak-1@PA-0002', 'smoke-1@PA-0001'], 'first events inside A placed their devices; the foreign one did not');
});

test('an address other than the one on record is refused; an event naming none routes by the record', async () => {
  await cloud.store.transaction((tx) => placeDevice(tx, GW.gatewayId, 'heat-1', 'PA-0001'));
  const moved = ev(GW, { deviceId: 'heat-1', addressId: 'PA-0002', alarmType: 'heat' });
  const silent = ev(GW, { deviceId: 'heat-1', addressId: undefined, alarmType: 'heat' });
  const unplaced = ev(GW, { deviceId: 'ghost-1', addressId: undefined });
  const answers = await send(GW, [moved, silent, unplaced]);
  assert.deepEqual(answers.acked, [silent.id]);
  const reasons = new Map(answers.rejected.map((r) => [r.id, r.reason]));
  assert.match(reasons.get(moved.id) ?? '', /PA-0002 is not the address on record for device heat-1 \(PA-0001\)/);
  assert.match(reasons.get(unplaced.id) ?? '', /ghost-1 has no address on record/);
  assert.equal((await incidentAddressOf(silent.id))?.address_id, 'PA-0001');
  assert.equal(await rejectedCount('unplaced_device'), 1);
});

test('a gateway with no allowed communities keeps the old behaviour: the first event places its device', async () => {
  const first = ev(LEGACY, { deviceId: 'old-1', addressId: 'PB-0001' });
  const answers = await send(LEGACY, [first]);
  assert.deepEqual(answers.acked, [first.id]);
  assert.equal((await incidentAddressOf(first.id))?.community, 'PL-B');
  assert.deepEqual((await getPlacement(cloud.store, LEGACY.gatewayId)).devices, [{ deviceId: 'old-1', addressId: 'PB-0001' }]);
});

test('`gridwatch-cloud gateway place` places a device from the command line; afterwards the gateway is held to it', async () => {
  const cli = join(import.meta.dirname, '..', 'bin', 'gridwatch-cloud.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'gateway', 'place', LEGACY.gatewayId, '--database-url', db.url, '--log-level', 'silent', '--device', 'cli-1=PA-0001']);
  const placed = JSON.parse(stdout) as { communities: string[]; devices: { deviceId: string }[] };
  assert.deepEqual(placed.communities, ['PL-A']);
  assert.ok(placed.devices.some((d) => d.deviceId === 'cli-1'));
  const outside = ev(LEGACY, { deviceId: 'old-2', addressId: 'PB-0001' });
  const answers = await send(LEGACY, [outside]);
  assert.equal(answers.rejected[0]?.id, outside.id, 'once placed, community B is foreign to the gateway');
});
