// The dispatch channel seam: a fixture channel (test/fixtures/channels/inbox/, one folder) is added
// by one registration line, and the delivery job — the same one the cloud runs — delivers through
// it, settles by its outcome (ack, back-off, dead at once) and leaves nothing running after stop().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MEMORY_DATA_DIR } from '../src/index.ts';
import { CHANNELS, ChannelRegistry, DEFAULT_CHANNELS } from '../src/dispatch/channels/index.ts';
import { addConsumer, ConsumerError } from '../src/dispatch/consumers.ts';
import { pushDeliveries } from '../src/dispatch/deliveries.ts';
import { enqueueDispatch } from '../src/dispatch/queue.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { deliveriesJob } from '../src/jobs/deliveries.ts';
import { CloudMetrics } from '../src/metrics.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { inboxChannel, inboxes } from './fixtures/channels/inbox/index.ts';
import { eventually } from './helpers.ts';

// The registration line: exactly what channels/index.ts does for the shipped channels.
const channels = new ChannelRegistry([...CHANNELS, inboxChannel]);

const log = pino({ level: 'silent' });
let store: Store;
let incidentId: number;

before(async () => {
  store = await openStore({ dataDir: MEMORY_DATA_DIR, databaseUrl: null }, log);
  await new GatewayRegistry(store).addGateway({ gatewayId: 'gw-ch-01', site: 'sz', secret: 'channel-gateway-secret' });
  const rows = await store.query<{ id: string | number }>(
    `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, reason, first_event_id, raised_edge_time)
     VALUES ('gw-ch-01', 'sz', 'smoke-01', 'smoke', 2, 'dispatched', 'test', 'gw-ch-01:1', now()) RETURNING id`,
  );
  incidentId = Number(rows[0]!.id);
});

after(async () => {
  await store?.close();
});

async function messageState(consumerId: string): Promise<{ state: string; attempts: number; last_error: string | null }[]> {
  return store.query('SELECT state, attempts, last_error FROM dispatch_messages WHERE consumer_id = $1 ORDER BY id', [consumerId]);
}

async function queueFor(consumerId: string, target: string): Promise<void> {
  await addConsumer(store, { id: consumerId, name: consumerId, units: ['*'], webhookUrl: target }, channels);
  await enqueueDispatch(store, { id: incidentId, unitId: null }, 'dispatch', { queued: false });
  // Every consumer follows '*': keep only this consumer's copy, so each case sees its own message.
  await store.query('DELETE FROM dispatch_messages WHERE consumer_id <> $1', [consumerId]);
}

test('a consumer may use a registered channel’s scheme, and only those', async () => {
  assert.deepEqual(channels.ids, ['webhook', 'inbox']);
  assert.equal(channels.forTarget('inbox://box-a'), inboxChannel);
  assert.equal(channels.forTarget('https://example.test/hook')?.id, 'webhook');
  await assert.rejects(addConsumer(store, { id: 'no-inbox', name: 'x', units: ['*'], webhookUrl: 'inbox://box-a' }, DEFAULT_CHANNELS), (err: unknown) => {
    assert.ok(err instanceof ConsumerError);
    assert.equal(err.message, 'webhookUrl: expected http or https');
    return true;
  });
  assert.throws(() => new ChannelRegistry([...CHANNELS, { ...inboxChannel, id: 'other', schemes: ['https'] }]), /scheme https already belongs to webhook/);
});

test('the delivery job delivers through the fixture channel and acks; stop leaves nothing running', async () => {
  await queueFor('inbox-a', 'inbox://box-a');
  const metrics = new CloudMetrics();
  const job = deliveriesJob({ store, metrics, log, everyMs: 60_000, maxAttempts: 3, backoffMs: 10, channels });
  job.start();
  job.kick();
  const delivered = await eventually('the inbox got the message', () => inboxes.get('box-a')?.[0]);
  assert.equal(delivered.consumerId, 'inbox-a');
  assert.equal(delivered.incidentId, incidentId);
  assert.equal(delivered.kind, 'dispatch');
  await eventually('the message acked', async () => (await messageState('inbox-a'))[0]?.state === 'acked');
  await job.stop();
  assert.equal(job.active, false, 'no timer and no round in flight after stop()');
  job.kick();
  assert.equal(job.active, false, 'a kick after stop() starts nothing');
  assert.match(await metrics.registry.metrics(), /gridwatch_webhook_deliveries_total\{result="ok"\} 1/);
});

test('a non-retryable outcome dead-letters at once; a retryable one backs off until the attempt limit', async () => {
  const options = { channels, maxAttempts: 2, backoffMs: 10, log };
  await queueFor('inbox-refuse', 'inbox://refuse');
  assert.equal(await pushDeliveries(store, options), 1);
  assert.deepEqual(await messageState('inbox-refuse'), [{ state: 'dead', attempts: 1, last_error: 'inbox refuses this message for good' }]);

  await queueFor('inbox-flaky', 'inbox://flaky');
  assert.equal(await pushDeliveries(store, options), 1);
  assert.deepEqual(await messageState('inbox-flaky'), [{ state: 'ready', attempts: 1, last_error: 'inbox busy, try again' }]);
  await eventually('the retry after the back-off', async () => (await pushDeliveries(store, options)) === 1);
  assert.deepEqual(await messageState('inbox-flaky'), [{ state: 'dead', attempts: 2, last_error: 'inbox busy, try again' }]);
});

test('a target its channel’s config schema refuses is dead at once, naming the channel', async () => {
  await queueFor('inbox-bad', 'inbox://Bad_Box');
  assert.equal(await pushDeliveries(store, { channels, maxAttempts: 5, backoffMs: 10, log }), 1);
  const [row] = await messageState('inbox-bad');
  assert.equal(row?.state, 'dead');
  assert.match(row?.last_error ?? '', /^target refused by channel inbox: /);
});
