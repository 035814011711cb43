// Attack: console password guessing and login floods.
// - 300 wrong passwords for one user, spread over two replicas sharing PostgreSQL: after the
//   per-username budget every attempt is answered 429 with Retry-After, and so is the right
//   password (no guess and no late right answer is accepted).
// - Many usernames from one address: the per-address budget answers 429 too.
// - Unknown usernames cost the same time as known ones.
// - A flood of concurrent logins hits the bounded hash queue (503), and a gateway still connects fast.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { createTempDatabase, type TempDatabase } from '../../cloud/test/helpers.ts';
import { Tally, tryConnect } from './support.ts';

const STAFF = { username: 'guarded-staff', password: 'right-password-1', role: 'dispatcher', jurisdictions: ['*'] };
const GW = { gatewayId: 'gw-login-01', site: 'site-l', secret: 'login-test-secret-1' };
let db: TempDatabase;
let one: Cloud;
let two: Cloud;

before(async () => {
  db = await createTempDatabase();
  const replica = { httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', loginMaxFailuresPerUser: 10, loginMaxFailuresPerAddress: 20, passwordHashQueue: 4 } as const;
  one = await startCloud(replica);
  two = await startCloud(replica);
  await one.directory.addUser(STAFF);
  await one.gateways.addGateway(GW);
});

after(async () => {
  await one?.stop();
  await two?.stop();
  await db?.drop();
});

async function login(cloud: Cloud, username: string, password: string): Promise<{ status: number; retryAfter: string | null }> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

test('300 wrong passwords over two replicas: 429 with Retry-After after the budget, the right one too', async () => {
  const tally = new Tally();
  const statuses: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const result = await login(i % 2 === 0 ? one : two, STAFF.username, `wrong-password-${i}`);
    tally.record('wrong password', result.status === 200);
    statuses.push(result.status);
    if (result.status === 429) assert.ok(Number(result.retryAfter) > 0, 'Retry-After in seconds');
  }
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'the budget is shared by both replicas');
  assert.ok(statuses.slice(10).every((s) => s === 429), 'blocked after 10 failures');
  for (const cloud of [one, two]) {
    const right = await login(cloud, STAFF.username, STAFF.password);
    tally.record('right password while blocked', right.status === 200);
    assert.equal(right.status, 429);
  }
  tally.assertNoneAccepted();
});

test('many usernames from one address: the per-address budget answers 429', async () => {
  const tally = new Tally();
  const statuses: number[] = [];
  // 10 of the address budget (20) were spent by the test above.
  for (let i = 0; i < 20; i += 1) {
    const result = await login(one, `sprayed-user-${i}`, 'Summer2026!');
    tally.record('password spray', result.status === 200);
    statuses.push(result.status);
  }
  tally.assertNoneAccepted();
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
  assert.ok(statuses.slice(10).every((s) => s === 429), `address budget reached: ${statuses.join(',')}`);
});

test('unknown usernames cost the same as known ones', async () => {
  const fresh = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
  try {
    await fresh.directory.addUser({ ...STAFF, username: 'timed-user' });
    const time = async (username: string): Promise<number> => {
      const started = performance.now();
      assert.equal((await login(fresh, username, 'not-the-password')).status, 401);
      return performance.now() - started;
    };
    const known = [await time('timed-user'), await time('timed-user'), await time('timed-user')].sort((a, b) => a - b)[1] as number;
    const unknown = [await time('nobody-1'), await time('nobody-2'), await time('nobody-3')].sort((a, b) => a - b)[1] as number;
    assert.ok(unknown > known * 0.5 && unknown < known * 2, `median known ${known.toFixed(0)} ms, unknown ${unknown.toFixed(0)} ms`);
  } finally {
    await fresh.stop();
  }
});

test('a login flood is bounded (503 beyond the queue) and does not starve gateway logins', async () => {
  const flood = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', passwordHashQueue: 4, loginMaxFailuresPerAddress: 1000, loginMaxFailuresPerUser: 1000 });
  try {
    await flood.gateways.addGateway(GW);
    const logins = Promise.all(Array.from({ length: 32 }, (_, i) => login(flood, `flood-${i}`, 'whatever-password')));
    const started = performance.now();
    const gateway = await tryConnect(flood.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret });
    const connectMs = performance.now() - started;
    const statuses = (await logins).map((r) => r.status);
    assert.equal(gateway.accepted, true);
    assert.ok(connectMs < 1000, `gateway connected in ${connectMs.toFixed(0)} ms during the flood`);
    assert.ok(statuses.filter((s) => s === 503).length >= 32 - 2 - 4, `503 beyond 2 running + 4 queued: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 401 || s === 503));
  } finally {
    await flood.stop();
  }
});

test('planted regression: with the login budgets off (limits at 1,000,000) guessing ends in an accepted login', async () => {
  // The budgets are injected options; at 1,000,000 they never trip within this run.
  const open = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', loginMaxFailuresPerUser: 1_000_000, loginMaxFailuresPerAddress: 1_000_000 });
  try {
    await open.directory.addUser(STAFF);
    const tally = new Tally();
    for (let i = 0; i < 12; i += 1) tally.record('wrong password', (await login(open, STAFF.username, `wrong-password-${i}`)).status === 200);
    const right = await login(open, STAFF.username, STAFF.password);
    tally.record('right password after the budget', right.status === 200);
    assert.throws(() => tally.assertNoneAccepted(), /right password after the budget: 1 of 1 attempts accepted/);
  } finally {
    await open.stop();
  }
});
