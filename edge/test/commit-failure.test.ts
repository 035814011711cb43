// The disk fills up under a running pipeline (every outbox write fails with SQLite's "database or
// disk is full"). A device's alarm must still drive local actuation at
// once; its PUBACK waits, because nothing is durable; the change is held in memory and retried;
// the gateway raises its own `event_store_failed` alarm; the failure is counted and logged once.
// When space returns, the held alarm, the gateway's alarm and its clear commit in decision order
// and the device gets its PUBACK. Also: reports arriving together commit as one group, each
// acknowledged only after that commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import {
  MqttDriver,
  RuleEngine,
  STORE_FAILED_ALARM,
  SqliteOutbox,
  SqliteRuleStore,
  bindDevices,
  createMetrics,
  createPipeline,
  openDatabase,
  type EventDraft,
} from '../src/index.ts';
import { DEVICE, agentConfig, captureLogger, connectDevice, eventually, tempDir } from './helpers.ts';

async function rig() {
  const { dir, cleanup } = tempDir();
  const config = agentConfig(join(dir, 'data'), 'mqtt://127.0.0.1:1');
  const devices = bindDevices(config, loadProfiles(config.profilesDir));
  const db = openDatabase(join(dir, 'edge.db'));
  const outbox = new SqliteOutbox(db, config.gateway.id).init();
  const bound = [...devices.values()];
  const engine = new RuleEngine({
    devices: bound.map((d) => ({ deviceId: d.device.id, profile: d.profile, rules: d.rules ?? d.profile.rules })),
    store: new SqliteRuleStore(db).init(),
    gatewayId: config.gateway.id,
  }).init();
  const metrics = createMetrics(() => outbox.pendingCount());
  const { logger, lines } = captureLogger();
  const actuated: EventDraft[] = [];
  const committed: string[] = [];
  const pipeline = createPipeline({
    devices,
    db,
    outbox,
    engine,
    telemetry: null,
    metrics,
    logger,
    onChanges: (changes) => actuated.push(...changes),
    onEvents: (events) => committed.push(...events.map((e) => e.id)),
  });
  const driver = new MqttDriver({ host: '127.0.0.1', port: 0, devices: bound.filter((d) => d.profile.transport === 'mqtt'), logger, metrics });
  await driver.start(pipeline);
  // Disk full, as SQLite reports it: every append fails with SQLITE_FULL's message until space returns.
  // (A page cap alone does not do it: the outbox's own pages keep free space for a while.)
  const diskFull = () => db.exec("CREATE TEMP TRIGGER disk_full BEFORE INSERT ON outbox_events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  const spaceBack = () => db.exec('DROP TRIGGER temp.disk_full');
  return {
    profile: devices.get(DEVICE.id)!.profile,
    db,
    outbox,
    engine,
    metrics,
    lines,
    actuated,
    committed,
    pipeline,
    driver,
    diskFull,
    spaceBack,
    async stop() {
      await driver.stop();
      outbox.close();
      cleanup();
    },
  };
}

test('disk full: the alarm sounds locally at once, its PUBACK waits, it is held and committed when space returns', { timeout: 20_000 }, async () => {
  const r = await rig();
  const device = await connectDevice(r.driver.port, DEVICE.username, DEVICE.password, DEVICE.id);
  try {
    r.diskFull();
    let acked = false;
    const published = device.publishAsync(`dev/${DEVICE.id}/up`, JSON.stringify({ alarm: true }), { qos: 1 }).then(() => (acked = true));
    await eventually('local actuation of the smoke raise', () => r.actuated.some((c) => c.deviceId === DEVICE.id && c.alarmType === 'smoke' && c.action === 'raise'));
    await eventually('the gateway\'s own alarm decided', () => r.actuated.some((c) => c.alarmType === STORE_FAILED_ALARM && c.action === 'raise'));
    assert.equal(r.outbox.pendingCount(), 0, 'nothing could be written');
    // More reports and ticks while the disk is full: retried each time, logged once, counted each time.
    const other = await connectDevice(r.driver.port, 'smoke-2', 'other-password', 'smoke-2');
    let otherAcked = false;
    const otherPublished = other.publishAsync('dev/smoke-2/up', JSON.stringify({ tamper: true }), { qos: 1 }).then(() => (otherAcked = true));
    await eventually('the second alarm actuated', () => r.actuated.some((c) => c.deviceId === 'smoke-2'));
    for (let i = 0; i < 3; i++) assert.deepEqual(r.pipeline.commit(() => []), []);
    assert.equal(otherAcked, false, 'no PUBACK for the second alarm either');
    assert.equal(acked, false, 'no PUBACK while the alarm is not durable');
    assert.ok(r.pipeline.held >= 2, `held in memory: ${r.pipeline.held}`);
    assert.equal(r.pipeline.storeFailing, true);
    assert.equal(r.lines.filter((l) => l.msg === 'could not commit events; holding them in memory and retrying').length, 1, 'logged once');
    const text = await r.metrics.registry.metrics();
    const failures = Number(/^gridwatch_edge_commit_failures_total (\d+)/m.exec(text)?.[1]);
    assert.ok(failures >= 4, `every failed commit counted (${failures})`);

    // The agent's periodic save of rule bookkeeping must not write the held alarm's state alone:
    // after a crash now the state would say "raised" with no event to tell the cloud.
    r.db.transaction(() => r.engine.persist(true))();
    const afterCrash = new RuleEngine({ devices: [{ deviceId: DEVICE.id, profile: r.profile }], store: new SqliteRuleStore(r.db) }).init();
    assert.equal(afterCrash.isActive(DEVICE.id, 'smoke'), false, 'rule state was saved without its event');

    r.spaceBack();
    // The next tick retries; the device's PUBACK follows the commit.
    r.pipeline.commit(() => []);
    await Promise.all([published, otherPublished]);
    await other.endAsync(true);
    assert.equal(r.pipeline.held, 0);
    assert.equal(r.pipeline.storeFailing, false);
    const stored = r.outbox.pending(10).map((e) => `${e.deviceId} ${e.alarmType} ${e.action}`);
    assert.deepEqual(
      stored,
      [`${DEVICE.id} smoke raise`, `gw-01 ${STORE_FAILED_ALARM} raise`, 'smoke-2 tamper raise', `gw-01 ${STORE_FAILED_ALARM} clear`],
      'in decision order, nothing lost',
    );
    assert.equal(r.lines.filter((l) => l.msg === 'events committed again after the store failed').length, 1);
    assert.equal(r.actuated.filter((c) => c.alarmType === 'smoke').length, 1, 'actuated once, not again at the late commit');
    // The rule state was committed with the events: a repeat of the report is no new alarm.
    await device.publishAsync(`dev/${DEVICE.id}/up`, JSON.stringify({ alarm: true }), { qos: 1 });
    assert.equal(r.outbox.pendingCount(), 4);
  } finally {
    await device.endAsync(true);
    await r.stop();
  }
});

test('reports arriving in one turn of the event loop commit as one group, each resolved after that commit', async () => {
  const r = await rig();
  try {
    const batches: number[] = [];
    const before = r.committed.length;
    const report = (deviceId: string, payload: object) => r.pipeline({ deviceId, payload: Buffer.from(JSON.stringify(payload)), t: Date.now() });
    const resolvedWith: number[] = [];
    const done = [report(DEVICE.id, { alarm: true, tamper: true }), report('smoke-2', { alarm: true }), report(DEVICE.id, { fault: true })].map((p) =>
      p.then(() => resolvedWith.push(r.outbox.pendingCount())),
    );
    assert.equal(r.outbox.pendingCount(), 0, 'nothing is written before the group commit');
    assert.equal(r.pipeline.held, 4, 'four changes wait for it');
    await Promise.all(done);
    batches.push(r.committed.length - before);
    assert.deepEqual(batches, [4], 'one commit for the burst');
    assert.deepEqual(resolvedWith, [4, 4, 4], 'each report resolved after the commit that holds its events');
    assert.deepEqual(
      r.outbox.pending(10).map((e) => `${e.deviceId} ${e.alarmType}`),
      [`${DEVICE.id} smoke`, `${DEVICE.id} tamper`, 'smoke-2 smoke', `${DEVICE.id} fault`],
      'in arrival order',
    );
    // A report that changes nothing resolves at once.
    await report('smoke-2', { alarm: true });
  } finally {
    await r.stop();
  }
});
