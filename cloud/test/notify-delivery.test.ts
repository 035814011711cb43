// Delivery discipline of notifications: retries with exponential back-off on the injected clock,
// dead-lettering after the attempt limit, the per-recipient rate limit (deferred, not dropped),
// each attempt an audit row and a metric.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { auditTrail } from '../src/incidents/incident.ts';
import { applyAction } from '../src/incidents/lifecycle.ts';
import { Outcome } from '../src/incidents/outcome.ts';
import { createSenders } from '../src/jobs/notifications.ts';
import { parseNotifyConfig, type NotifyConfig } from '../src/notify/config.ts';
import { deliverDue, type AttemptResult, type DeliverDeps } from '../src/notify/deliver.ts';
import { planNotifications } from '../src/notify/plan.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { migrate } from '../src/store/migrate.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { alarmEvent, createTempDatabase, type TempDatabase } from './helpers.ts';
import { startVendor, type VendorServer } from './notify-support.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const gateway = { gatewayId: 'gw-deliver', site: 'sz-futian' };
let db: TempDatabase;
let store: PostgresStore;
let vendor: VendorServer;
let failuresLeft = 0;
let seq = 0;

function config(overrides: Partial<NotifyConfig['delivery']>): NotifyConfig {
  return parseNotifyConfig({
    version: 1,
    linkBaseUrl: 'http://gw.test',
    delivery: { backoffMs: 1000, maxBackoffMs: 60_000, ...overrides },
    channels: { wecom: { endpoint: vendor.origin } },
    people: [{ id: 'p-wang', name: '王', contacts: [{ channel: 'wecom', to: 'key-wang' }] }],
    rosters: [{ unit: 'grid-g01', shifts: [{ role: 'grid_worker', people: ['p-wang'], days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '00:00', holidays: 'also' }] }],
    chains: [{ name: 'all', levels: [1, 2, 3, 4, 5], steps: [{ afterS: 0, tier: 'grid', channels: ['wecom'] }] }],
  });
}

/** One alarm from a fresh gateway each time, so the alarm flood policy never folds them together. */
async function raise(level = 1): Promise<number> {
  const gw = { gatewayId: `${gateway.gatewayId}-${++seq}`, site: gateway.site };
  await new GatewayRegistry(store).addGateway({ ...gw, secret: 'deliver-secret-01' });
  const event = alarmEvent(gw.gatewayId, seq, { level, addressId: 'FT-0001-0203' });
  await store.transaction((tx) => applyEvents(tx, gw, [event], DEFAULT_ENGINE, new Outcome()));
  const [row] = await store.query<{ incident_id: string }>('SELECT incident_id FROM events WHERE event_id = $1', [event.id]);
  return Number(row?.incident_id);
}

function deps(cfg: NotifyConfig, clock: { t: number }, results: AttemptResult[]): DeliverDeps {
  return { store, config: cfg, senders: createSenders(cfg), linkKey: 'k'.repeat(32), log: pino({ level: 'silent' }), now: () => clock.t, onAttempt: (_c, r) => results.push(r) };
}

/** Ends every open incident, so the next alarm in the same building opens a new one (no correlation). */
async function endAll(): Promise<void> {
  const open = await store.query<{ id: string }>('SELECT id FROM incidents WHERE open');
  for (const { id } of open) {
    await store.transaction((tx) => applyAction(tx, Number(id), { action: 'false_alarm', actor: 'test', note: '', source: 'test' }, DEFAULT_ENGINE, new Outcome()));
  }
  await store.query("UPDATE notifications SET status = 'cancelled' WHERE status = 'pending'");
}

const notes = async (id: number): Promise<string[]> => (await auditTrail(store, id)).filter((a) => a.action === 'notify').map((a) => a.note);

before(async () => {
  vendor = await startVendor(() => (failuresLeft-- > 0 ? { status: 503, json: {} } : { json: { errcode: 0, errmsg: 'ok' } }));
  db = await createTempDatabase();
  store = await PostgresStore.open(db.url, () => undefined);
  await migrate(store);
  await store.transaction(async (tx) => {
    await importAddressesCsv(tx, fixture('addresses.csv'));
    await importUnitsCsv(tx, fixture('units.csv'));
    await importRulesCsv(tx, fixture('rules.csv'));
  });
});
after(async () => {
  await store.close();
  await db.drop();
  await vendor.close();
});

test('delivery: two failures are retried after 1 s and 2 s (back-off), then sent; every attempt audited', async () => {
  await endAll();
  const id = await raise();
  const cfg = config({ maxAttempts: 5 });
  const clock = { t: Date.now() };
  const results: AttemptResult[] = [];
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1);
  failuresLeft = 2;
  const d = deps(cfg, clock, results);
  assert.equal(await deliverDue(d, 10), 1);
  clock.t += 999;
  assert.equal(await deliverDue(d, 10), 0, 'not due before the back-off');
  clock.t += 1;
  assert.equal(await deliverDue(d, 10), 1);
  clock.t += 1999;
  assert.equal(await deliverDue(d, 10), 0);
  clock.t += 1;
  assert.equal(await deliverDue(d, 10), 1);
  assert.deepEqual(results, ['retry', 'retry', 'sent']);
  const audit = await notes(id);
  assert.equal(audit.length, 3);
  assert.match(audit[0] ?? '', /^notify wecom → p-wang \(grid_worker, \*+wang\), step 0, attempt 1: retry — HTTP 503$/);
  assert.match(audit[2] ?? '', /attempt 3: sent — errcode 0$/);
});

test('delivery: dead-lettered after the attempt limit', async () => {
  await endAll();
  const id = await raise();
  const cfg = config({ maxAttempts: 2 });
  const clock = { t: Date.now() };
  const results: AttemptResult[] = [];
  await planNotifications(store, cfg, clock.t, 3_600_000);
  failuresLeft = 10;
  const d = deps(cfg, clock, results);
  await deliverDue(d, 10);
  clock.t += 1000;
  await deliverDue(d, 10);
  clock.t += 60_000;
  assert.equal(await deliverDue(d, 10), 0, 'a dead notification is not tried again');
  assert.deepEqual(results, ['retry', 'dead']);
  const [row] = await store.query<{ status: string; last_error: string }>('SELECT status, last_error FROM notifications WHERE incident_id = $1', [id]);
  assert.deepEqual(row, { status: 'dead', last_error: 'HTTP 503' });
  assert.match((await notes(id)).at(-1) ?? '', /attempt 2: dead — HTTP 503$/);
  failuresLeft = 0;
});

test('delivery: the per-recipient rate limit defers the second message instead of dropping it', async () => {
  await endAll();
  await store.query("UPDATE notifications SET sent_at = now() - interval '1 day' WHERE status = 'sent'");
  const cfg = config({ perRecipient: { max: 1, windowS: 600 } });
  const clock = { t: Date.now() };
  const results: AttemptResult[] = [];
  await raise();
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1);
  const d = deps(cfg, clock, results);
  await deliverDue(d, 10);
  await endAll();
  const second = await raise();
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1);
  await deliverDue(d, 10);
  assert.deepEqual(results, ['sent', 'rate_limited']);
  const pending = await store.query<{ incident_id: string; attempts: number }>("SELECT incident_id, attempts FROM notifications WHERE status = 'pending'");
  assert.deepEqual(pending.map((p) => [Number(p.incident_id), p.attempts]), [[second, 0]]);
});

test('delivery: a row planned before someone acknowledged is cancelled, not sent', async () => {
  await endAll();
  const cfg = config({});
  const id = await raise();
  const clock = { t: Date.now() };
  const results: AttemptResult[] = [];
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1);
  await store.transaction((tx) => applyAction(tx, id, { action: 'acknowledge', actor: 'staff', note: '', source: 'test' }, DEFAULT_ENGINE, new Outcome()));
  const before = vendor.requests.length;
  assert.equal(await deliverDue(deps(cfg, clock, results), 10), 1);
  assert.deepEqual(results, []);
  assert.equal(vendor.requests.length, before);
  const [row] = await store.query<{ status: string }>('SELECT status FROM notifications WHERE incident_id = $1', [id]);
  assert.equal(row?.status, 'cancelled');
});

test('delivery: a shelved incident plans nothing and holds its pending rows; unshelved, they go out', async () => {
  await endAll();
  const cfg = parseNotifyConfig({
    ...config({}),
    chains: [{ name: 'all', levels: [1, 2, 3, 4, 5], steps: [{ afterS: 0, tier: 'grid', channels: ['wecom'] }, { afterS: 60, tier: 'grid', channels: ['wecom'] }] }],
  });
  const id = await raise(3);
  const clock = { t: Date.now() };
  const results: AttemptResult[] = [];
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1, 'step 0 planned before shelving');
  const until = new Date(clock.t + 3_600_000).toISOString();
  await store.transaction((tx) => applyAction(tx, id, { action: 'shelve', actor: 'staff', note: '维修中', source: 'test', until }, DEFAULT_ENGINE, new Outcome()));
  const before = vendor.requests.length;
  const d = deps(cfg, clock, results);
  assert.equal(await deliverDue(d, 10), 0, 'a shelved incident’s row is not claimed');
  clock.t += 120_000;
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 0, 'no escalation step is planned while shelved');
  assert.equal(await deliverDue(d, 10), 0);
  assert.equal(vendor.requests.length, before, 'nothing reached the vendor while shelved');
  const held = await store.query<{ status: string; attempts: number }>('SELECT status, attempts FROM notifications WHERE incident_id = $1', [id]);
  assert.deepEqual(held, [{ status: 'pending', attempts: 0 }], 'held, not cancelled');
  await store.transaction((tx) => applyAction(tx, id, { action: 'unshelve', actor: 'staff', note: '', source: 'test' }, DEFAULT_ENGINE, new Outcome()));
  assert.equal(await planNotifications(store, cfg, clock.t, 3_600_000), 1, 'the step whose delay passed meanwhile is planned on unshelving');
  assert.equal(await deliverDue(d, 10), 2);
  assert.deepEqual(results, ['sent', 'sent']);
});
