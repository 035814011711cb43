// Group commit (issue 12): what one gateway has queued commits in one transaction, in order; a store
// error inside a group redoes it message by message, so the bad event alone is rejected by id and
// the rest commit once each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { decodeMessage, encodeMessage, topicFor, type AlarmEvent } from '@gridwatch/protocol';
import { KeyedBatchLanes } from '../src/ingest/lanes.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, createTempDatabase, eventsMessage, eventually, type TempDatabase } from './helpers.ts';

test('batch lanes: a key hands over everything it queued meanwhile, in order and up to maxBatch', async () => {
  const batches: string[][] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const lanes = new KeyedBatchLanes<string>({
    concurrency: 1,
    capacity: 10,
    maxBatch: 3,
    run: async (key, items) => {
      batches.push(items.map((i) => `${key}${i}`));
      if (batches.length === 1) await held;
    },
  });
  lanes.push('a', '1');
  for (const item of ['2', '3', '4', '5']) lanes.push('a', item);
  lanes.push('b', '1');
  assert.equal(lanes.size, 6);
  release();
  await lanes.whenIdle();
  // a1 ran alone; then b (ready before a came back) and the rest of a in batches of at most three.
  assert.deepEqual(batches, [['a1'], ['b1'], ['a2', 'a3', 'a4'], ['a5']]);
});

const GW = { gatewayId: 'gw-group', site: 'sz-group', secret: 'group-commit-secret-1' };
const MESSAGES = 30;
let db: TempDatabase;
let cloud: Cloud;

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
});

after(async () => {
  await cloud.stop();
  await db.drop();
});

/** Publishes one event per message while the gateway's first commit is held on its row lock, then releases it. */
async function burstBehindALock(client: MqttClient, events: AlarmEvent[]): Promise<void> {
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM gateways WHERE id = $1 FOR UPDATE', [GW.gatewayId]);
    // Each publish resolves on the broker's PUBACK: the embedded broker has handed it to the cloud's connection.
    for (const event of events) await client.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [event])), { qos: 1 });
    await eventually('the first commit waiting on the lock', async () => {
      const rows = await blocker.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
      return rows.rows[0]!.n > 0 ? true : undefined;
    }, 20_000);
    await blocker.query('COMMIT');
  } finally {
    await blocker.end();
  }
}

test("a gateway's queued messages commit as groups, each event once and in order; a bad event in a group is rejected alone", async () => {
  const client = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  const accepted = new Set<string>();
  const rejected = new Map<string, string>();
  let ackMessages = 0;
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    if (!ack.ok) return;
    ackMessages += 1;
    for (const id of ack.value.eventIds) accepted.add(id);
    for (const r of ack.value.rejected ?? []) rejected.set(r.id, r.reason);
  });
  await client.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
  const event = (seq: number, reason?: string): AlarmEvent => alarmEvent(GW.gatewayId, seq, { deviceId: `det-${seq}`, addressId: undefined, ...(reason ? { reason } : {}) });
  const stored = (): Promise<{ event_id: string; tx: string }[]> =>
    cloud.store.query('SELECT event_id, xmin::text AS tx FROM events WHERE gateway_id = $1 ORDER BY seq', [GW.gatewayId]);
  try {
    const first = Array.from({ length: MESSAGES }, (_, i) => event(i + 1));
    await burstBehindALock(client, first);
    await eventually('the first burst acknowledged', () => (accepted.size >= MESSAGES ? true : undefined), 30_000);
    const rows = await stored();
    assert.deepEqual(rows.map((r) => r.event_id), first.map((e) => e.id), 'each event stored once, in order');
    // Rows inserted by one transaction share its xmin: the queued messages committed as groups.
    const transactions = new Set(rows.map((r) => r.tx)).size;
    assert.ok(transactions < MESSAGES / 2, `${MESSAGES} events in ${transactions} transactions`);
    // One application ack per committed group, not per message (the edge deletes by id).
    assert.ok(ackMessages <= transactions, `${ackMessages} ack messages for ${transactions} transactions`);

    await cloud.store.query("ALTER TABLE events ADD CONSTRAINT group_test_refuse CHECK (reason <> 'refused by the store')");
    const second = Array.from({ length: 10 }, (_, i) => event(MESSAGES + i + 1, i === 6 ? 'refused by the store' : undefined));
    const bad = second[6]!;
    await burstBehindALock(client, second);
    await eventually('the second burst answered', () => (accepted.size + rejected.size >= MESSAGES + second.length ? true : undefined), 30_000);
    assert.deepEqual([...rejected.keys()], [bad.id], 'only the bad event is rejected');
    assert.match(rejected.get(bad.id) ?? '', /group_test_refuse/);
    assert.equal(accepted.size, MESSAGES + second.length - 1);
    const all = await stored();
    assert.deepEqual(all.map((r) => r.event_id), [...first, ...second].filter((e) => e !== bad).map((e) => e.id), 'each good event stored once, in order');
    const incidents = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE gateway_id = $1', [GW.gatewayId]);
    assert.equal(incidents[0]!.n, MESSAGES + second.length - 1, 'one incident per good event');
  } finally {
    await cloud.store.query('ALTER TABLE events DROP CONSTRAINT IF EXISTS group_test_refuse');
    await client.endAsync();
  }
});
