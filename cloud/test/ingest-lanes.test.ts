// Ingest lanes (issue 12): one gateway's messages commit strictly in order, different gateways'
// concurrently on the pool, and the ack still follows the commit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { decodeMessage, encodeMessage, topicFor } from '@gridwatch/protocol';
import { KeyedLanes } from '../src/ingest/lanes.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, createTempDatabase, eventsMessage, eventually, type TempDatabase } from './helpers.ts';

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('lanes: one key runs in order, other keys run beside it, and capacity bounds what is held', async () => {
  const lanes = new KeyedLanes(2, 3);
  const log: string[] = [];
  const a1 = gate();
  const b1 = gate();
  lanes.push('a', async () => {
    log.push('a1 start');
    await a1.opened;
    log.push('a1 end');
  });
  lanes.push('a', async () => {
    log.push('a2');
  });
  lanes.push('b', async () => {
    log.push('b1 start');
    await b1.opened;
  });
  assert.equal(lanes.size, 3);
  assert.equal(lanes.hasRoom, false, 'three held of a capacity of three');
  assert.deepEqual(log, ['a1 start', 'b1 start'], 'b runs beside a; a2 waits for a1');
  const room = lanes.whenRoom();
  b1.open();
  await room;
  a1.open();
  await lanes.whenIdle();
  assert.deepEqual(log, ['a1 start', 'b1 start', 'a1 end', 'a2']);
});

test('lanes: concurrency is never exceeded', async () => {
  const lanes = new KeyedLanes(3, 50);
  let running = 0;
  let peak = 0;
  for (let i = 0; i < 40; i += 1) {
    lanes.push(`k${i % 10}`, async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
    });
  }
  await lanes.whenIdle();
  assert.equal(peak, 3);
});

const A = { gatewayId: 'gw-lane-a', site: 'sz-lanes', secret: 'lanes-secret-a-1' };
const B = { gatewayId: 'gw-lane-b', site: 'sz-lanes', secret: 'lanes-secret-b-1' };
let db: TempDatabase;
let cloud: Cloud;

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  await cloud.gateways.addGateway(A);
  await cloud.gateways.addGateway(B);
});

after(async () => {
  await cloud.stop();
  await db.drop();
});

function acksOf(client: MqttClient, gw: typeof A): Promise<string[]> {
  const ids: string[] = [];
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    if (ack.ok) ids.push(...ack.value.eventIds);
  });
  return client.subscribeAsync(topicFor(gw, 'ack'), { qos: 1 }).then(() => ids);
}

test('a gateway whose commit is blocked does not hold up another gateway', async () => {
  const a = await connectGateway(cloud.mqttUrl, A.gatewayId, A.secret);
  const b = await connectGateway(cloud.mqttUrl, B.gatewayId, B.secret);
  const aAcks = await acksOf(a, A);
  const bAcks = await acksOf(b, B);
  // Hold gateway A's row: its event transaction blocks on `UPDATE gateways … WHERE id = A`.
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM gateways WHERE id = $1 FOR UPDATE', [A.gatewayId]);
    const aEvent = alarmEvent(A.gatewayId, 1, { deviceId: 'det-a', addressId: undefined });
    const bEvent = alarmEvent(B.gatewayId, 1, { deviceId: 'det-b', addressId: undefined });
    await a.publishAsync(topicFor(A, 'events'), encodeMessage('events', eventsMessage(A.gatewayId, [aEvent])), { qos: 1 });
    await eventually('A waiting on the lock', async () => {
      const rows = await blocker.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
      return rows.rows[0]!.n > 0 ? true : undefined;
    }, 20_000);
    await b.publishAsync(topicFor(B, 'events'), encodeMessage('events', eventsMessage(B.gatewayId, [bEvent])), { qos: 1 });
    await eventually("B's ack while A is blocked", () => bAcks.includes(bEvent.id), 20_000);
    assert.equal(aAcks.length, 0, 'A is acked only after its commit');
    const bStored = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway_id = $1', [B.gatewayId]);
    assert.equal(bStored[0]!.n, 1);
    await blocker.query('COMMIT');
    await eventually("A's ack after the lock is released", () => aAcks.includes(aEvent.id), 20_000);
    const aStored = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway_id = $1', [A.gatewayId]);
    assert.equal(aStored[0]!.n, 1);
  } finally {
    await blocker.end();
    await a.endAsync();
    await b.endAsync();
  }
});
