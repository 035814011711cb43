// Every event gets an answer, through the real cloud (MQTT in, PGlite, ack out): one NUL-bearing
// event no longer blocks the good ones batched with it, dead letters keep any bytes, and a fuzz run
// of a few thousand random and mutated payloads (0x00 bytes, invalid UTF-8, lone surrogates, wrong
// types, version bumps, unknown fields) leaves no message unaccounted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, topicFor, type AckMessage, type AlarmEvent } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';
import { seededRandom } from '../src/replay/generate.ts';

const GW = { gatewayId: 'gw-int-01', site: 'sz-futian', secret: 'integrity-secret-01' };
const FZ = { gatewayId: 'gw-fz', site: 'sz-futian', secret: 'fuzz-secret-000001' };
const MESSAGES = Number(process.env.GRIDWATCH_FUZZ_MESSAGES ?? 2000);
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:[0-9]{1,15}$/;

let cloud: Cloud;
const acks = new Map<string, AckMessage[]>();
const clients: MqttClient[] = [];

async function gatewayClient(gw: typeof GW): Promise<MqttClient> {
  await cloud.gateways.addGateway(gw);
  const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
  acks.set(gw.gatewayId, []);
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    assert.ok(ack.ok, 'the cloud sends only valid acks');
    acks.get(gw.gatewayId)?.push(ack.value);
  });
  await client.subscribeAsync(topicFor(gw, 'ack'), { qos: 1 });
  clients.push(client);
  return client;
}

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
});

after(async () => {
  for (const c of clients) await c.endAsync();
  await cloud.stop();
});

function answered(gatewayId: string): { accepted: Set<string>; rejected: Map<string, string> } {
  const accepted = new Set<string>();
  const rejected = new Map<string, string>();
  for (const ack of acks.get(gatewayId) ?? []) {
    for (const id of ack.eventIds) accepted.add(id);
    for (const r of ack.rejected ?? []) rejected.set(r.id, r.reason);
  }
  return { accepted, rejected };
}

test('a batch with one NUL-bearing event: the good ones commit and are acked, the bad one is rejected by id and dead-lettered, the next alarm arrives', async () => {
  const gateway = await gatewayClient(GW);
  const good1 = alarmEvent(GW.gatewayId, 1, { deviceId: 'smoke-nul-1' });
  const good3 = alarmEvent(GW.gatewayId, 3, { deviceId: 'gas-nul-3', alarmType: 'gas_low' });
  // Built as JSON text: the escape is what an edge (or an attacker) puts on the wire.
  const bad = JSON.stringify(alarmEvent(GW.gatewayId, 2, { deviceId: 'smoke-nul-2' })).replace('"reason":"', '"reason":"a\\u0000b ');
  const payload = `{"v":1,"gatewayId":"${GW.gatewayId}","sentAt":${Date.now()},"events":[${JSON.stringify(good1)},${bad},${JSON.stringify(good3)}]}`;
  await gateway.publishAsync(topicFor(GW, 'events'), payload, { qos: 1 });

  const ack = await eventually('ack of the batch', () => acks.get(GW.gatewayId)?.find((a) => a.eventIds.includes(good1.id)));
  assert.deepEqual(ack.eventIds, [good1.id, good3.id]);
  assert.equal(ack.rejected?.length, 1);
  assert.equal(ack.rejected?.[0]?.id, `${GW.gatewayId}:2`);
  assert.match(ack.rejected?.[0]?.reason ?? '', /\/events\/1\/reason/);
  const incidents = await cloud.store.query<{ device_id: string }>("SELECT device_id FROM incidents WHERE gateway_id = $1 ORDER BY id", [GW.gatewayId]);
  assert.deepEqual(incidents.map((i) => i.device_id), ['smoke-nul-1', 'gas-nul-3']);
  const letters = await cloud.store.query<{ event_id: string; reason: string; payload_bytes: Uint8Array }>(
    'SELECT event_id, reason, payload_bytes FROM dead_letters WHERE gateway_id = $1',
    [GW.gatewayId],
  );
  assert.equal(letters.length, 1);
  assert.equal(letters[0]?.event_id, `${GW.gatewayId}:2`);
  assert.match(Buffer.from(letters[0]!.payload_bytes).toString('utf8'), /a\\u0000b/, 'the refused event is kept as sent');

  // The gateway is not blocked: its next alarm arrives.
  const next = alarmEvent(GW.gatewayId, 4, { deviceId: 'smoke-nul-4' });
  await gateway.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [next])), { qos: 1 });
  await eventually('ack of the next alarm', () => acks.get(GW.gatewayId)?.find((a) => a.eventIds.includes(next.id)));
  const held = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE device_id = 'smoke-nul-4'");
  assert.equal(held[0]?.n, 1);
});

test('dead letters keep any bytes: raw 0x00 and invalid UTF-8 are stored exactly', async () => {
  const gateway = clients[0] as MqttClient;
  const samples = [Buffer.from([0x7b, 0x00, 0x22, 0x76, 0x22, 0x3a, 0x31]), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00])];
  for (const bytes of samples) await gateway.publishAsync(topicFor(GW, 'events'), bytes, { qos: 1 });
  const stored = await eventually('both stored', async () => {
    const rows = await cloud.store.query<{ payload_bytes: Uint8Array; reason: string }>("SELECT payload_bytes, reason FROM dead_letters WHERE gateway_id = $1 AND reason LIKE '%not JSON%' ORDER BY id", [GW.gatewayId]);
    return rows.length === 2 ? rows : undefined;
  });
  assert.deepEqual(stored.map((r) => Buffer.from(r.payload_bytes).toString('hex')), samples.map((b) => b.toString('hex')));
});

test('a non-transient store error outside the per-event savepoints rejects the whole batch by id instead of leaving it unanswered', async () => {
  const gw = { gatewayId: 'gw-int-02', site: 'sz-futian', secret: 'integrity-secret-02' };
  const gateway = await gatewayClient(gw);
  // Stands in for a batch-level statement the store refuses every time (here: the proof-of-life write).
  await cloud.store.query("ALTER TABLE gateways ADD CONSTRAINT integrity_batch_refuse CHECK (id <> 'gw-int-02' OR last_seen_at IS NULL)");
  try {
    const events = [alarmEvent(gw.gatewayId, 1, { deviceId: 'b-1' }), alarmEvent(gw.gatewayId, 2, { deviceId: 'b-2' })];
    await gateway.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, events)), { qos: 1 });
    const ack = await eventually('the rejection', () => acks.get(gw.gatewayId)?.find((a) => (a.rejected?.length ?? 0) > 0));
    assert.deepEqual(ack.eventIds, []);
    assert.deepEqual(ack.rejected?.map((r) => r.id), events.map((e) => e.id));
    assert.match(ack.rejected?.[0]?.reason ?? '', /^store: 23514/);
    const held = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway_id = $1', [gw.gatewayId]);
    assert.equal(held[0]?.n, 0, 'nothing half-committed');
    const letter = await cloud.store.query<{ reason: string }>('SELECT reason FROM dead_letters WHERE gateway_id = $1', [gw.gatewayId]);
    assert.match(letter[0]?.reason ?? '', /integrity_batch_refuse/);
  } finally {
    await cloud.store.query('ALTER TABLE gateways DROP CONSTRAINT integrity_batch_refuse');
  }
});


type Mutation = (events: Record<string, unknown>[], envelope: Record<string, unknown>, r: () => number) => void;
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
/** An event of the batch that is still an object (a mutation may have added a non-event). */
const anEvent = (r: () => number, ev: Record<string, unknown>[]): Record<string, unknown> => pick(r, ev.filter((e) => typeof e === 'object' && e !== null));
const STRING_FIELDS = ['reason', 'addressId', 'profileId', 'deviceId', 'alarmType', 'id'];
const JSON_MUTATIONS: Mutation[] = [
  (ev, _e, r) => void (anEvent(r, ev)[pick(r, STRING_FIELDS)] = `x\u0000${Math.floor(r() * 1e6)}`),
  (ev, _e, r) => void (anEvent(r, ev)[pick(r, STRING_FIELDS)] = `lone \ud800 ${Math.floor(r() * 1e6)}`),
  (ev, _e, r) => void (anEvent(r, ev).readings = { note: `n\u0000${r()}` }),
  (_ev, e) => void (e.v = 2),
  (ev, e, r) => void ((e.batchId = r()), (anEvent(r, ev).futureField = { nested: r() })),
  (ev, _e, r) => void (anEvent(r, ev).level = pick(r, ['1', 0, 9, 1.5, null])),
  (ev, _e, r) => void (anEvent(r, ev).seq = pick(r, [-1, 0, 1e16, 'x'])),
  (ev, _e, r) => void (anEvent(r, ev).edgeTime = pick(r, [1e20, -5, 'now'])),
  (ev, _e, r) => void delete anEvent(r, ev)[pick(r, ['id', 'seq', 'action', 'reason'])],
  (ev, _e, r) => void (anEvent(r, ev).reason = 'y'.repeat(600 + Math.floor(r() * 100))),
  (_ev, e, r) => void (e.gatewayId = pick(r, ['gw-other', 42])),
  (ev) => void ev.push('not an event' as unknown as Record<string, unknown>),
];
const BYTE_MUTATIONS: ((b: Buffer, r: () => number) => Buffer)[] = [
  (b, r) => Buffer.concat([b.subarray(0, Math.floor(r() * b.length)), Buffer.from([0x00]), b.subarray(Math.floor(r() * b.length))]),
  (b, r) => {
    const at = Math.floor(r() * b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]])), b.subarray(at)]);
  },
  (b, r) => {
    const copy = Buffer.from(b);
    copy[Math.floor(r() * copy.length)] = Math.floor(r() * 256);
    return copy;
  },
  (b, r) => b.subarray(0, Math.floor(r() * b.length)),
];

function fuzzMessage(r: () => number, seq: { next: number }, earlier: AlarmEvent[]): Buffer {
  const events: AlarmEvent[] = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
    alarmEvent(FZ.gatewayId, seq.next++, {
      deviceId: `fz-${Math.floor(r() * 6)}`,
      alarmType: pick(r, ['smoke', 'gas_low', 'gas_high', 'fault', 'water_leak']),
      action: pick(r, ['raise', 'clear'] as const),
      level: 1 + Math.floor(r() * 5),
      addressId: undefined,
    }),
  );
  if (earlier.length > 0 && r() < 0.05) events.push(pick(r, earlier));
  earlier.push(...events.slice(0, 1));
  const plain = events.map((e) => ({ ...e }) as Record<string, unknown>);
  const envelope: Record<string, unknown> = { v: SCHEMA_VERSION, gatewayId: FZ.gatewayId, sentAt: Date.now(), events: plain };
  const kind = r();
  if (kind < 0.15) return Buffer.from(JSON.stringify(envelope));
  if (kind < 0.65) for (let i = 0; i < 1 + Math.floor(r() * 2); i += 1) pick(r, JSON_MUTATIONS)(plain, envelope, r);
  let bytes: Buffer = Buffer.from(JSON.stringify(envelope));
  if (kind >= 0.5) bytes = pick(r, BYTE_MUTATIONS)(bytes, r);
  return bytes;
}

function eventIdsIn(bytes: Buffer): { parsed: boolean; ids: (string | null)[] } {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { events?: unknown };
    if (!Array.isArray(value?.events)) return { parsed: false, ids: [] };
    return { parsed: true, ids: value.events.map((e: unknown) => (typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string' && EVENT_ID.test((e as { id: string }).id) ? (e as { id: string }).id : null)) };
  } catch {
    return { parsed: false, ids: [] };
  }
}

test(`fuzz: ${MESSAGES} random and mutated payloads, every one answered by id or dead-lettered, counts agree`, { timeout: 600_000 }, async () => {
  const seed = Number(process.env.GRIDWATCH_FUZZ_SEED ?? 20261201);
  const r = seededRandom(seed);
  const gateway = await gatewayClient(FZ);
  const seq = { next: 1 };
  const earlier: AlarmEvent[] = [];
  const sent = new Map<string, Buffer>();
  while (sent.size < MESSAGES) {
    const bytes = fuzzMessage(r, seq, earlier);
    if (bytes.length > 0) sent.set(bytes.toString('hex'), bytes);
  }
  // Up to 100 in flight (QoS 1): ingest still handles them one by one, in order.
  const all = [...sent.values()];
  for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map((bytes) => gateway.publishAsync(topicFor(FZ, 'events'), bytes, { qos: 1 })));
  // A final good alarm: ingest is still answering after the storm.
  const last = alarmEvent(FZ.gatewayId, seq.next++, { deviceId: 'fz-final', addressId: undefined });
  await gateway.publishAsync(topicFor(FZ, 'events'), encodeMessage('events', eventsMessage(FZ.gatewayId, [last])), { qos: 1 });
  await eventually('the final alarm acked', () => answered(FZ.gatewayId).accepted.has(last.id), 60_000);

  const letters = await cloud.store.query<{ event_id: string | null; hex: string }>("SELECT event_id, encode(payload_bytes, 'hex') AS hex FROM dead_letters WHERE gateway_id = $1", [FZ.gatewayId]);
  const lettered = new Set(letters.map((l) => l.hex));
  const letteredIds = new Set(letters.flatMap((l) => (l.event_id ? [l.event_id] : [])));
  const { accepted, rejected } = answered(FZ.gatewayId);
  const unaccounted: string[] = [];
  let bad = 0;
  for (const [hex, bytes] of sent) {
    const { parsed, ids } = eventIdsIn(bytes);
    const wholeLettered = lettered.has(hex);
    const allAnswered = parsed && ids.every((id) => id !== null && (accepted.has(id) || rejected.has(id)));
    if (!decodeMessage('events', bytes).ok) bad += 1;
    if (!wholeLettered && !allAnswered) unaccounted.push(bytes.toString('utf8').slice(0, 160));
  }
  assert.deepEqual(unaccounted.slice(0, 5), [], `${unaccounted.length} of ${sent.size} messages neither answered nor dead-lettered (seed ${seed})`);
  assert.ok(bad > MESSAGES / 2, `the fuzz exercised bad input: ${bad} bad messages`);
  // Every id the cloud rejected is dead-lettered (by id, or with its whole message).
  const rejectedUnlettered = [...rejected.keys()].filter((id) => !letteredIds.has(id) && ![...sent].some(([hex, b]) => lettered.has(hex) && b.includes(`"${id}"`)));
  assert.deepEqual(rejectedUnlettered.slice(0, 5), [], 'rejected ids without a dead letter');
  // The counter of refusals matches the dead letters, one for one.
  const byMetric = (await cloud.metrics.rejected.get()).values.reduce((sum, v) => sum + v.value, 0);
  const allLetters = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
  assert.equal(byMetric, allLetters[0]?.n);
});
