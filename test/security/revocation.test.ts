// Attack: stale and rotated secrets on two cloud replicas sharing one PostgreSQL (each with its own
// embedded broker, registry and LISTEN connection). After a rotation (or a disable) on replica 2,
// within 5 s the session opened with the old secret on replica 1 is closed and neither replica
// accepts the old secret. Accepted = an old-secret CONNECT succeeded or the old session survived.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { createTempDatabase, type TempDatabase } from '../../cloud/test/helpers.ts';
import { Tally, closed, connectAs, tryConnect } from './support.ts';

const REVOKE_WITHIN_MS = 5000;
let db: TempDatabase;
let one: Cloud;
let two: Cloud;

before(async () => {
  db = await createTempDatabase();
  const replica = { httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' } as const;
  one = await startCloud(replica);
  two = await startCloud(replica);
});

after(async () => {
  await one?.stop();
  await two?.stop();
  await db?.drop();
});

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function oldSecretAccepted(gatewayId: string, secret: string): Promise<boolean[]> {
  return Promise.all([one, two].map(async (cloud) => (await tryConnect(cloud.mqttUrl, { clientId: gatewayId, username: gatewayId, password: secret })).accepted));
}

test('rotate on one replica: the old session on the other is closed and the old secret refused on both within 5 s', async () => {
  const gw = { gatewayId: 'gw-rot-01', site: 'site-r', secret: 'rotation-old-secret' };
  await one.gateways.addGateway(gw);
  const tally = new Tally();
  const session = await connectAs(one.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret });
  const sessionClosed = closed(session);
  const rotatedAt = Date.now();
  const rotated = await two.gateways.rotate(gw.gatewayId);
  await within(REVOKE_WITHIN_MS, 'old session closed', sessionClosed);
  tally.record('old session kept open', false);
  const elapsed = Date.now() - rotatedAt;
  for (const accepted of await oldSecretAccepted(gw.gatewayId, gw.secret)) tally.record('old secret after rotation', accepted);
  assert.ok(elapsed < REVOKE_WITHIN_MS, `revoked after ${elapsed} ms`);
  // The new secret works on both replicas.
  for (const cloud of [one, two]) {
    assert.equal((await tryConnect(cloud.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: rotated.secret })).accepted, true);
  }
  await session.endAsync(true);
  tally.assertNoneAccepted();
});

test('disable closes the session on every replica and refuses the gateway; enable lets it back', async () => {
  const gw = { gatewayId: 'gw-dis-01', site: 'site-r', secret: 'disable-me-secret' };
  await two.gateways.addGateway(gw);
  const tally = new Tally();
  const sessions = await Promise.all([one, two].map((cloud) => connectAs(cloud.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret })));
  const allClosed = Promise.all(sessions.map(closed));
  await one.gateways.setLifecycle(gw.gatewayId, 'disabled');
  await within(REVOKE_WITHIN_MS, 'sessions closed after disable', allClosed);
  for (const accepted of await oldSecretAccepted(gw.gatewayId, gw.secret)) tally.record('disabled gateway connects', accepted);
  // Its messages would be refused by ingest too: lookup answers only for active gateways.
  tally.record('disabled gateway known to ingest', (await one.gateways.lookup(gw.gatewayId)) !== null);
  tally.assertNoneAccepted();
  await two.gateways.setLifecycle(gw.gatewayId, 'active');
  assert.deepEqual(await oldSecretAccepted(gw.gatewayId, gw.secret), [true, true]);
  for (const s of sessions) await s.endAsync(true);
});

test('a legacy scrypt hash still verifies, is upgraded to the keyed hash on login, and the session survives the upgrade', async () => {
  const { scryptHash } = await import('@gridwatch/protocol');
  const gw = { gatewayId: 'gw-legacy-01', site: 'site-r', secret: 'legacy-scrypt-secret' };
  await one.gateways.addGateway(gw);
  await one.store.query('UPDATE gateways SET secret_hash = $2 WHERE id = $1', [gw.gatewayId, await scryptHash(gw.secret, { N: 16384, r: 8, p: 1 })]);
  const session = await connectAs(two.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret });
  const [row] = await one.store.query<{ secret_hash: string }>('SELECT secret_hash FROM gateways WHERE id = $1', [gw.gatewayId]);
  assert.match(row?.secret_hash ?? '', /^hmac-sha256\$/);
  assert.equal((await tryConnect(one.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: 'legacy-wrong-secret' })).accepted, false);
  assert.ok(session.connected, 'the hash upgrade is not a rotation');
  await session.endAsync(true);
});

test('`gridwatch-cloud gateway rotate|disable|enable|remove` from another process revoke within 5 s', async () => {
  const { spawnSync } = await import('node:child_process');
  const { CLOUD_MAIN, ROOT } = await import('./support.ts');
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['--import', 'tsx', CLOUD_MAIN, 'gateway', ...args, '--database-url', db.url, '--log-level', 'warn'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const gw = { gatewayId: 'gw-cli-rot', site: 'site-r', secret: 'cli-rotation-secret' };
  await one.gateways.addGateway(gw);
  const tally = new Tally();
  const session = await connectAs(one.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret });
  const sessionClosed = closed(session);
  const rotated = cli('rotate', gw.gatewayId);
  assert.equal(rotated.status, 0, rotated.stderr);
  const { secret } = JSON.parse(rotated.stdout) as { secret: string };
  await within(REVOKE_WITHIN_MS, 'session closed after CLI rotate', sessionClosed);
  for (const accepted of await oldSecretAccepted(gw.gatewayId, gw.secret)) tally.record('old secret after CLI rotate', accepted);
  assert.deepEqual(await oldSecretAccepted(gw.gatewayId, secret), [true, true], 'the printed secret works');
  assert.equal(cli('disable', gw.gatewayId).status, 0);
  for (const accepted of await oldSecretAccepted(gw.gatewayId, secret)) tally.record('disabled by CLI', accepted);
  assert.equal(cli('enable', gw.gatewayId).status, 0);
  assert.deepEqual(await oldSecretAccepted(gw.gatewayId, secret), [true, true]);
  assert.equal(cli('remove', gw.gatewayId).status, 0);
  for (const accepted of await oldSecretAccepted(gw.gatewayId, secret)) tally.record('removed by CLI', accepted);
  const again = cli('enable', gw.gatewayId);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /gateway enable: gatewayId: gw-cli-rot not found/);
  tally.assertNoneAccepted();
});

test('planted regression: a replica that does not follow the change feed keeps the rotated session open', async () => {
  const { startBrokerRig } = await import('./support.ts');
  // Two bare brokers on the same database: one follows gateway changes, the other is the planted
  // regression (BrokerRigOptions.changes = false, i.e. BrokerOptions.changes absent).
  const following = await startBrokerRig({ databaseUrl: db.url });
  const deaf = await startBrokerRig({ databaseUrl: db.url, changes: false });
  try {
    const gw = { gatewayId: 'gw-rot-planted', site: 'site-r', secret: 'rotation-planted-secret' };
    await one.gateways.addGateway(gw);
    const login = { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret };
    const [guarded, exposed] = await Promise.all([connectAs(following.url, login), connectAs(deaf.url, login)]);
    await two.gateways.rotate(gw.gatewayId);
    await within(REVOKE_WITHIN_MS, 'the following replica closes its session', closed(guarded));
    // Both heard of the rotation at the same time; only the one without the feed kept its session.
    const tally = new Tally();
    tally.record('old session kept open', exposed.connected);
    assert.throws(() => tally.assertNoneAccepted(), /old session kept open: 1 of 1 attempts accepted/);
    await exposed.endAsync(true);
    await guarded.endAsync(true);
  } finally {
    await following.stop();
    await deaf.stop();
  }
});
