// Enrollment end to end: the cloud admin issues a one-time token over REST; the installer runs the
// real `gridwatch-edge enroll` in a child process against a config file without a password; the
// credential lands in <dataDir>/credentials.json (mode 0600); the agent started from that config
// connects with it and a smoke alarm reaches the cloud as an incident. The same token used again is
// refused, and the refusal is counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { MEMORY_DATA_DIR, startCloud, type Cloud } from '@gridwatch/cloud';
import { SmokeDetectorSim } from '@gridwatch/sim';
import { edgeHealth, spawnEdge, type EdgeProcess } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { incidentsFor } from '../support/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN_TOKEN = 'enroll-admin-token-0001';
const GW = { gatewayId: 'gw-enroll-01', site: 'sz-nanshan' };
const DEVICE = { id: 'smoke-e1', username: 'smoke-e1', password: 'smoke-e1-password' };

let cloud: Cloud;
let dir: string;
let configFile: string;
let agent: EdgeProcess | null = null;
let sim: SmokeDetectorSim | null = null;

interface Run {
  code: number;
  out: Record<string, unknown>;
  stderr: string;
}

function enrollCli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), 'enroll', ...args, '--config', configFile, '--json'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let out: Record<string, unknown> = {};
      try {
        out = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        out = { stdout };
      }
      resolve({ code, out, stderr });
    });
  });
}

async function api(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${cloud.httpUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found ? Number(found.split(' ').pop()) : 0;
}

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, adminToken: ADMIN_TOKEN, logLevel: 'silent' });
  dir = mkdtempSync(join(tmpdir(), 'gw-enroll-'));
  configFile = join(dir, 'edge.yaml');
  // No cloud.password: that is what enrollment provides.
  writeFileSync(
    configFile,
    `# Gateway before enrollment\n${stringify({
      version: 1,
      gateway: { id: GW.gatewayId, site: GW.site },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: cloud.mqttUrl, resendAfterMs: 500, reconnectPeriodMs: 200, maxReconnectPeriodMs: 1000 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      devices: [{ id: DEVICE.id, profile: 'generic/smoke-mqtt', mqtt: { username: DEVICE.username, password: DEVICE.password } }],
    })}`,
  );
});

after(async () => {
  await sim?.stop();
  await agent?.kill();
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a token issued over REST enrolls the gateway through the CLI; the agent connects with the credential; the token works once', { timeout: 60_000 }, async () => {
  // Admin only; bad input names the field.
  assert.equal((await api('POST', '/api/v1/enrollment-tokens', GW, null)).status, 401);
  const missing = await api('POST', '/api/v1/enrollment-tokens', { gatewayId: GW.gatewayId });
  assert.equal(missing.status, 400);
  assert.match(String(missing.body.error), /^site: /);
  const badTtl = await api('POST', '/api/v1/enrollment-tokens', { ...GW, ttlS: 0 });
  assert.equal(badTtl.status, 400);
  assert.match(String(badTtl.body.error), /^ttlS: /);

  const issued = await api('POST', '/api/v1/enrollment-tokens', { ...GW, ttlS: 600 });
  assert.equal(issued.status, 201);
  const token = String(issued.body.token);
  assert.match(token, /^gwe_[A-Za-z0-9_-]{43}$/);
  assert.ok(Date.parse(String(issued.body.expiresAt)) > Date.now() + 500_000);
  // Stored hashed: the token itself is nowhere in the database.
  const stored = await cloud.store.query<{ token_hash: string }>('SELECT token_hash FROM enrollment_tokens WHERE gateway_id = $1', [GW.gatewayId]);
  assert.equal(stored.length, 1);
  assert.notEqual(stored[0]!.token_hash, token);

  // Without a credential the agent refuses to start, pointing at enroll.
  const unenrolled = await new Promise<string>((resolve) => execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), 'check', '--config', configFile], { cwd: ROOT }, (_e, stdout, stderr) => resolve(stdout + stderr)));
  assert.match(unenrolled, /enroll/);

  const first = await enrollCli('--token', token, '--cloud', cloud.httpUrl);
  assert.equal(first.code, 0, `enroll failed: ${first.stderr}`);
  assert.equal(first.out.ok, true);
  assert.equal(first.out.gatewayId, GW.gatewayId);
  assert.match(String(first.out.next), /restart/);
  assert.equal(JSON.stringify(first.out).includes('password'), false, 'the secret is never printed');
  const credentialsFile = join(dir, 'data', 'credentials.json');
  assert.equal(first.out.credentialsFile, credentialsFile);
  assert.equal(statSync(credentialsFile).mode & 0o777, 0o600);
  const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as { username: string; password: string; url?: string };
  assert.equal(credentials.username, GW.gatewayId);
  assert.ok(credentials.password.length >= 24);
  assert.equal(credentials.url, cloud.mqttUrl);
  assert.ok(await cloud.gateways.verify(GW.gatewayId, credentials.password), 'the cloud registered the gateway with that secret');

  // The same token again: refused (410), nothing overwritten, counted.
  const second = await enrollCli('--token', token, '--cloud', cloud.httpUrl);
  assert.equal(second.code, 2);
  assert.equal(second.out.ok, false);
  assert.match(String(second.out.error), /already used/);
  assert.match(String(second.out.next), /new enrollment token/);
  assert.equal((JSON.parse(readFileSync(credentialsFile, 'utf8')) as { password: string }).password, credentials.password);
  assert.equal((await api('POST', '/api/v1/enroll', { token }, null)).status, 410);
  assert.equal(await metric('gridwatch_enrollments_total{result="used_token"}'), 2);
  assert.equal(await metric('gridwatch_enrollments_total{result="enrolled"}'), 1);

  // The agent connects with the enrolled credential; a raised alarm becomes an incident.
  agent = await spawnEdge(configFile);
  await eventually('uplink connected', async () => ((await edgeHealth(agent!.httpPort)).uplink === 'connected' ? true : undefined), 10_000);
  sim = new SmokeDetectorSim({ brokerUrl: `mqtt://127.0.0.1:${agent.localMqttPort}`, deviceId: DEVICE.id, username: DEVICE.username, password: DEVICE.password });
  await sim.start();
  await sim.alarm();
  const incidents = await eventually('the alarm as an incident', async () => {
    const list = await incidentsFor(cloud, DEVICE.id);
    return list.length > 0 ? list : undefined;
  }, 10_000);
  assert.equal(incidents[0]!.gatewayId, GW.gatewayId);
});

test('unknown and expired tokens are refused (401, 410); a token for another gateway is kept; re-enrolling rotates the secret', { timeout: 20_000 }, async () => {
  const unknown = await api('POST', '/api/v1/enroll', { token: 'gwe_not-a-real-token' }, null);
  assert.equal(unknown.status, 401);
  assert.match(String(unknown.body.error), /^token: /);
  const empty = await api('POST', '/api/v1/enroll', {}, null);
  assert.equal(empty.status, 400);
  assert.match(String(empty.body.error), /^token: required/);

  const expiring = await api('POST', '/api/v1/enrollment-tokens', { gatewayId: 'gw-enroll-02', site: GW.site, ttlS: 1 });
  await cloud.store.query("UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE gateway_id = 'gw-enroll-02'");
  const expired = await api('POST', '/api/v1/enroll', { token: expiring.body.token }, null);
  assert.equal(expired.status, 410);
  assert.match(String(expired.body.error), /expired/);
  assert.equal(await cloud.gateways.lookup('gw-enroll-02'), null, 'nothing registered');

  // A site that does not match the registered gateway is refused at issue time.
  const otherSite = await api('POST', '/api/v1/enrollment-tokens', { gatewayId: GW.gatewayId, site: 'elsewhere' });
  assert.equal(otherSite.status, 400);
  assert.match(String(otherSite.body.error), /^site: /);

  const rotate = await api('POST', '/api/v1/enrollment-tokens', GW);
  const wrongGateway = await api('POST', '/api/v1/enroll', { token: rotate.body.token, gatewayId: 'gw-someone-else' }, null);
  assert.equal(wrongGateway.status, 400);
  assert.match(String(wrongGateway.body.error), /^gatewayId: /);
  const before = JSON.parse(readFileSync(join(dir, 'data', 'credentials.json'), 'utf8')) as { password: string };
  const rotated = await api('POST', '/api/v1/enroll', { token: rotate.body.token, gatewayId: GW.gatewayId }, null);
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.deepEqual(Object.keys(rotated.body).sort(), ['brokerUrl', 'gatewayId', 'password', 'site', 'username']);
  assert.equal(rotated.body.brokerUrl, cloud.mqttUrl);
  assert.ok(await cloud.gateways.verify(GW.gatewayId, String(rotated.body.password)));
  assert.equal(await cloud.gateways.verify(GW.gatewayId, before.password), null, 'the old secret no longer works');
  assert.equal(await metric('gridwatch_enrollments_total{result="rotated"}'), 1);
  assert.equal(await metric('gridwatch_enrollments_total{result="expired_token"}'), 1);
  assert.equal(await metric('gridwatch_enrollments_total{result="unknown_token"}'), 1);

  const doc = await api('GET', '/api/v1/openapi.json', undefined, null);
  const paths = doc.body.paths as Record<string, { post?: unknown }>;
  assert.ok(paths['/api/v1/enrollment-tokens']?.post);
  assert.ok(paths['/api/v1/enroll']?.post);
});
