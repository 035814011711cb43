// Console users and sessions on PGlite: scrypt hashes, login/me/logout (logout revokes the token),
// jurisdiction scoping of lists and actions, roles that may not act, and `user add` from the CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCloud, type Cloud } from '../src/index.ts';
import { hashPassword, verifyPassword, parseJurisdiction } from '../src/auth/users.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false });
  await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
  await cloud.directory.addUser({ username: 'street.s01', password: 'street-password', role: 'community_staff', jurisdictions: ['street:FT-S01'] });
  await cloud.directory.addUser({ username: 'fitter', password: 'installer-password', role: 'installer', jurisdictions: ['district:FT'] });
  await cloud.gateways.addGateway({ gatewayId: 'gw-auth-01', site: 'sz', secret: 'auth-gateway-secret' });
  // Two incidents: one in street FT-S01, one outside every jurisdiction of the users above.
  for (const [device, community, street] of [['d-in', 'FT-C01', 'FT-S01'], ['d-out', 'XX-C09', 'XX-S09']] as const) {
    await cloud.store.query(
      `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, reason, first_event_id, raised_edge_time, community, street, district)
       VALUES ('gw-auth-01', 'sz', $1, 'smoke', 1, 'raised', 'test', $1, now(), $2, $3, 'FT')`,
      [device, community, street],
    );
  }
});

after(async () => {
  await cloud?.stop();
});

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${cloud.httpUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function login(username: string, password: string): Promise<string> {
  const res = await call('POST', '/api/v1/auth/login', undefined, { username, password });
  assert.equal(res.status, 200);
  return res.body.token as string;
}

test('passwords are scrypt hashes; jurisdictions are validated', async () => {
  const hash = await hashPassword('a-password');
  assert.match(hash, /^scrypt\$131072\$8\$1\$/);
  assert.equal(await verifyPassword('a-password', hash), true);
  assert.equal(await verifyPassword('b-password', hash), false);
  assert.equal(parseJurisdiction('community:FT-C01'), 'community:FT-C01');
  assert.throws(() => parseJurisdiction('building:B1'), /jurisdiction: expected grid\|community\|street\|district/);
  const rows = await cloud.store.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE username = $1', ['fitter']);
  assert.doesNotMatch(rows[0]!.password_hash, /installer-password/);
});

test('a user sees and acts only within their jurisdiction; installers may not act', async () => {
  const token = await login('street.s01', 'street-password');
  const me = await call('GET', '/api/v1/auth/me', token);
  assert.deepEqual((me.body.user as { jurisdictions: string[] }).jurisdictions, ['street:FT-S01']);
  const list = await call('GET', '/api/v1/incidents', token);
  const incidents = list.body.incidents as { id: number; deviceId: string }[];
  assert.deepEqual(incidents.map((i) => i.deviceId), ['d-in']);
  const all = await cloud.store.query<{ id: string; device_id: string }>('SELECT id, device_id FROM incidents ORDER BY id');
  const outside = Number(all.find((r) => r.device_id === 'd-out')!.id);
  const inside = Number(all.find((r) => r.device_id === 'd-in')!.id);
  assert.equal((await call('GET', `/api/v1/incidents/${outside}`, token)).status, 404);
  assert.equal((await call('POST', `/api/v1/incidents/${outside}/actions`, token, { action: 'acknowledge' })).status, 404);
  const fitter = await login('fitter', 'installer-password');
  const refused = await call('POST', `/api/v1/incidents/${inside}/actions`, fitter, { action: 'acknowledge' });
  assert.equal(refused.status, 403);
  assert.match(refused.body.error as string, /^role: installer may not change incidents/);
  const ack = await call('POST', `/api/v1/incidents/${inside}/actions`, token, { action: 'acknowledge', note: '收到' });
  assert.equal(ack.status, 200);
  assert.equal(ack.body.status, 'acknowledged');
  const overview = await call('GET', '/api/v1/overview', token);
  assert.deepEqual(overview.body.byLevel, { 1: 1 });
});

test('logout revokes the token; no session means 401 with openAccess off', async () => {
  const token = await login('street.s01', 'street-password');
  assert.equal((await call('POST', '/api/v1/auth/logout', token)).status, 204);
  assert.equal((await call('GET', '/api/v1/auth/me', token)).status, 401);
  assert.equal((await call('GET', '/api/v1/incidents')).status, 401);
  assert.equal((await call('POST', '/api/v1/auth/login', undefined, { username: 'street.s01', password: 'nope-nope' })).status, 401);
});

test('gridwatch-cloud user add stores a user, and --if-absent leaves it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridwatch-users-'));
  const main = new URL('../src/main.ts', import.meta.url).pathname;
  const args = ['--import', 'tsx', main, 'user', 'add', '--username', 'wang.fang', '--password', 'grid-worker-pw', '--role', 'grid_worker', '--jurisdiction', 'grid:FT-G01', '--data-dir', dataDir, '--log-level', 'silent'];
  await promisify(execFile)(process.execPath, args);
  await promisify(execFile)(process.execPath, [...args, '--if-absent']);
  const again = await promisify(execFile)(process.execPath, args).then(() => 0, (err: { code: number; stderr: string }) => (assert.match(err.stderr, /username: wang.fang already exists/), err.code));
  assert.equal(again, 1);
  const bad = await promisify(execFile)(process.execPath, [...args.slice(0, 6), 'x', '--password', 'short', '--role', 'king', '--jurisdiction', 'grid:FT-G01', '--data-dir', dataDir]).then(() => 0, (err: { code: number }) => err.code);
  assert.equal(bad, 1);
});
