// The outbox's durable writes on the writer thread (issue 12): the alarm commit's fsync no longer
// holds the agent's event loop, a device is acknowledged only after the COMMIT, and a writer that
// crashes or a database that refuses the write leaves the device unacknowledged (it resends)
// while the agent keeps serving; the failure is logged once and counted, and the held changes
// commit on a new writer thread, once each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import {
  MqttDriver,
  RuleEngine,
  STORE_FAILED_ALARM,
  SqliteOutbox,
  StagedRuleStore,
  WorkerCommitBackend,
  WorkerOutbox,
  WriterThread,
  bindDevices,
  countWriterCrashes,
  createMetrics,
  saveRuleState,
  createPipeline,
  openDatabase,
  type EventDraft,
} from '../src/index.ts';
import { DEVICE, agentConfig, captureLogger, connectDevice, eventually, tempDir } from './helpers.ts';

async function rig() {
  const { dir, cleanup } = tempDir();
  const config = agentConfig(join(dir, 'data'), 'mqtt://127.0.0.1:1');
  const devices = bindDevices(config, loadProfiles(config.profilesDir));
  const file = join(dir, 'edge.db');
  const db = openDatabase(file);
  const local = new SqliteOutbox(db, config.gateway.id).init();
  const rules = new StagedRuleStore(db).init();
  const { logger, lines } = captureLogger();
  const writer = new WriterThread({ file, logger });
  const outbox = new WorkerOutbox(local, db, writer, config.gateway.id);
  const bound = [...devices.values()];
  const engine = new RuleEngine({
    devices: bound.map((d) => ({ deviceId: d.device.id, profile: d.profile, rules: d.rules ?? d.profile.rules })),
    store: rules,
    gatewayId: config.gateway.id,
  }).init();
  const metrics = createMetrics(() => outbox.pendingCount());
  writer.onCrash = countWriterCrashes(metrics);
  const committed: string[] = [];
  const pipeline = createPipeline({
    devices,
    db,
    outbox,
    engine,
    backend: new WorkerCommitBackend({ writer, outbox, engine, rules }),
    telemetry: null,
    metrics,
    logger,
    onEvents: (events) => committed.push(...events.map((e) => e.id)),
  });
  const driver = new MqttDriver({ host: '127.0.0.1', port: 0, devices: bound.filter((d) => d.profile.transport === 'mqtt'), logger, metrics });
  await driver.start(pipeline);
  /** What another process would find in the file now (a separate connection: only committed rows). */
  const onDisk = (): string[] => {
    const other = new Database(file, { readonly: true });
    try {
      return (other.prepare('SELECT body FROM outbox_events ORDER BY seq').all() as Array<{ body: string }>).map((r) => {
        const e = JSON.parse(r.body) as EventDraft & { id: string };
        return `${e.id} ${e.deviceId} ${e.alarmType} ${e.action}`;
      });
    } finally {
      other.close();
    }
  };
  const metric = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await metrics.registry.metrics())?.[1] ?? 0);
  const report = (deviceId: string, payload: object) => pipeline({ deviceId, payload: Buffer.from(JSON.stringify(payload)), t: Date.now() });
  return {
    profile: devices.get(DEVICE.id)!.profile,
    file,
    db,
    writer,
    outbox,
    engine,
    rules,
    logger,
    lines,
    committed,
    pipeline,
    driver,
    onDisk,
    metric,
    report,
    async stop() {
      await driver.stop();
      await writer.close();
      outbox.close();
      cleanup();
    },
  };
}

test('the commit runs on the writer thread: the event loop keeps turning, the report resolves only after COMMIT', { timeout: 20_000 }, async () => {
  const r = await rig();
  try {
    // A commit made slow on purpose (a trigger doing ~0.2-1 s of work in the writer's transaction).
    r.db.exec(`CREATE TRIGGER slow AFTER INSERT ON outbox_events BEGIN
      SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c); END`);
    let turns = 0;
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns++;
    }, 5);
    const started = performance.now();
    let diskAtResolve: string[] = [];
    await Promise.all([r.report(DEVICE.id, { alarm: true }), r.report('smoke-2', { alarm: true })]).then(() => (diskAtResolve = r.onDisk()));
    const took = performance.now() - started;
    clearInterval(ticker);
    assert.ok(took > 100, `the commit was slow (${took.toFixed(0)} ms)`);
    assert.ok(turns >= took / 5 / 4, `the event loop turned during the commit (${turns} turns in ${took.toFixed(0)} ms)`);
    assert.ok(longest < took / 2, `no long stall of the event loop (${longest.toFixed(0)} ms of ${took.toFixed(0)} ms)`);
    assert.deepEqual(diskAtResolve, ['gw-01:1 smoke-1 smoke raise', 'gw-01:2 smoke-2 smoke raise'], 'durable in another connection when the report resolved');
    assert.deepEqual(r.committed, ['gw-01:1', 'gw-01:2'], 'one group, in arrival order');
    r.db.exec('DROP TRIGGER slow');
    // The rule state went with the events: a repeat is no new alarm, and a new engine on the file agrees.
    await r.report(DEVICE.id, { alarm: true });
    assert.equal(r.outbox.pendingCount(), 2);
    const fresh = new RuleEngine({ devices: [{ deviceId: DEVICE.id, profile: r.profile }], store: new StagedRuleStore(r.db) }).init();
    assert.equal(fresh.isActive(DEVICE.id, 'smoke'), true);
  } finally {
    await r.stop();
  }
});

test('acks delete on the writer thread; the acked events are hidden from pending() at once; numbers are never reused', async () => {
  const r = await rig();
  try {
    await Promise.all([r.report(DEVICE.id, { alarm: true, tamper: true }), r.report('smoke-2', { alarm: true })]);
    assert.deepEqual(r.outbox.pending(10).map((e) => e.id), ['gw-01:1', 'gw-01:2', 'gw-01:3']);
    assert.equal(r.outbox.ack(['gw-01:1', 'gw-01:3', 'gw-01:99']), 2, 'counts the ones that existed');
    assert.deepEqual(r.outbox.pending(10).map((e) => e.id), ['gw-01:2'], 'hidden before the delete commits');
    assert.equal(r.outbox.pendingCount(), 1);
    assert.equal(r.outbox.ack(['gw-01:1']), 0, 'an ack repeated before its delete commits counts nothing');
    r.writer.settle();
    assert.deepEqual(r.onDisk(), ['gw-01:2 smoke-1 tamper raise']);
    assert.equal(r.outbox.quarantine('gw-01:2', 'unknown device'), true);
    assert.deepEqual(r.outbox.quarantined().map((q) => [q.id, q.reason]), [['gw-01:2', 'unknown device']]);
    assert.equal(r.outbox.pendingCount(), 0);
    // A direct append is durable on return and numbered after everything issued before.
    const appended = r.outbox.append({ deviceId: 'smoke-2', profileId: 'generic/smoke-mqtt', alarmType: 'tamper', action: 'raise', level: 2, reason: 'r', edgeTime: 1 });
    assert.equal(appended.seq, 4);
    assert.deepEqual(r.onDisk(), ['gw-01:4 smoke-2 tamper raise']);
    r.outbox.ack([appended.id]);
    r.writer.settle();
    const again = new WorkerOutbox(new SqliteOutbox(r.db, 'gw-01'), r.db, r.writer, 'gw-01');
    assert.equal(again.number({ deviceId: 'x', profileId: 'p', alarmType: 'a', action: 'raise', level: 1, reason: '', edgeTime: 0 }).seq, 5, 'after every row was deleted');
  } finally {
    await r.stop();
  }
});

test('the writer thread crashes with a report in flight: no PUBACK, logged once, counted; the agent keeps serving and commits it once on a new thread', { timeout: 20_000 }, async () => {
  const r = await rig();
  const device = await connectDevice(r.driver.port, DEVICE.username, DEVICE.password, DEVICE.id);
  try {
    r.writer.crashForTest();
    let acked = false;
    const published = device.publishAsync(`dev/${DEVICE.id}/up`, JSON.stringify({ alarm: true }), { qos: 1 }).then(() => (acked = true));
    await eventually('the commit failed with the thread', () => r.pipeline.storeFailing);
    assert.equal(r.lines.filter((l) => l.msg === 'outbox writer thread stopped; its commits are held and retried on a new one').length, 1, 'logged once');
    assert.equal(await r.metric('gridwatch_edge_outbox_writer_crashes_total'), 1, 'counted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(acked, false, 'no PUBACK: nothing is durable');
    assert.deepEqual(r.onDisk(), []);
    assert.ok(r.pipeline.held >= 2, `the alarm and the store's own alarm held (${r.pipeline.held})`);
    // The agent keeps serving: the next report goes to a new writer thread with the held changes first.
    await r.report('smoke-2', { tamper: true });
    await published;
    assert.equal(r.pipeline.storeFailing, false);
    assert.deepEqual(
      r.onDisk().map((l) => l.split(' ').slice(1).join(' ')),
      [`${DEVICE.id} smoke raise`, `gw-01 ${STORE_FAILED_ALARM} raise`, 'smoke-2 tamper raise', `gw-01 ${STORE_FAILED_ALARM} clear`],
      'in decision order, once each',
    );
    assert.equal(await r.metric('gridwatch_edge_outbox_writer_crashes_total'), 1);
  } finally {
    await device.endAsync(true);
    await r.stop();
  }
});

test('the database refuses the write on the writer thread: no PUBACK, held, logged once; committed when it works again', { timeout: 20_000 }, async () => {
  const r = await rig();
  const device = await connectDevice(r.driver.port, DEVICE.username, DEVICE.password, DEVICE.id);
  try {
    // A schema trigger (not TEMP): it applies to the writer thread's connection too.
    r.db.exec("CREATE TRIGGER disk_full BEFORE INSERT ON outbox_events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    let acked = false;
    const published = device.publishAsync(`dev/${DEVICE.id}/up`, JSON.stringify({ alarm: true }), { qos: 1 }).then(() => (acked = true));
    await eventually('the commit failed', () => r.pipeline.storeFailing);
    for (let i = 0; i < 3; i++) assert.deepEqual(r.pipeline.commit(() => []), [], 'a tick retries, blocking, and fails');
    assert.equal(acked, false);
    assert.equal(r.lines.filter((l) => l.msg === 'could not commit events; holding them in memory and retrying').length, 1, 'logged once');
    assert.ok((await r.metric('gridwatch_edge_commit_failures_total')) >= 4, 'every failed commit counted');
    assert.equal(await r.metric('gridwatch_edge_outbox_writer_crashes_total'), 0, 'an SQL error is no crash');
    // The periodic save of rule bookkeeping must not write the held alarm's state alone.
    saveRuleState(r.writer, r.engine, r.rules, r.logger);
    r.writer.settle();
    const afterCrash = new RuleEngine({ devices: [{ deviceId: DEVICE.id, profile: r.profile }], store: new StagedRuleStore(r.db) }).init();
    assert.equal(afterCrash.isActive(DEVICE.id, 'smoke'), false, 'rule state was saved without its event');
    r.db.exec('DROP TRIGGER disk_full');
    r.pipeline.commit(() => []);
    await published;
    assert.deepEqual(
      r.onDisk().map((l) => l.split(' ').slice(1).join(' ')),
      [`${DEVICE.id} smoke raise`, `gw-01 ${STORE_FAILED_ALARM} raise`, `gw-01 ${STORE_FAILED_ALARM} clear`],
    );
    const seqs = r.outbox.pending(10).map((e) => e.seq);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'numbers in commit order');
  } finally {
    await device.endAsync(true);
    await r.stop();
  }
});

test('the writer thread dies while the main thread blocks on it (a clock commit): the wait ends at once, the change is held', { timeout: 20_000 }, async () => {
  const r = await rig();
  try {
    r.writer.crashForTest();
    const started = performance.now();
    assert.deepEqual(r.pipeline.commit(() => r.engine.system('crash_restart', true, 4, 'test')), [], 'nothing committed');
    assert.ok(performance.now() - started < 3000, `did not wait for the call timeout (${(performance.now() - started).toFixed(0)} ms)`);
    assert.equal(r.pipeline.storeFailing, true);
    assert.equal(await r.metric('gridwatch_edge_outbox_writer_crashes_total'), 1);
    const events = r.pipeline.commit(() => []);
    assert.deepEqual(events, []);
    assert.deepEqual(
      r.onDisk().map((l) => l.split(' ').slice(1).join(' ')),
      ['gw-01 crash_restart raise', `gw-01 ${STORE_FAILED_ALARM} raise`, `gw-01 ${STORE_FAILED_ALARM} clear`],
      'held and committed on the next thread',
    );
  } finally {
    await r.stop();
  }
});
