// HTTP surface of an exposed cloud (0.0.0.0, open access off, an admin token): /units needs a
// reader, /metrics a token, the console carries a CSP and security headers, and the admin gateway
// routes need the admin token and revoke at once. Accepted = a protected answer without credentials.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { Tally, closed, connectAs, tryConnect } from './support.ts';

const ADMIN = 'http-test-admin-token-0001';
const GW = { gatewayId: 'gw-http-01', site: 'site-h', secret: 'http-gateway-secret' };
let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpHost: '0.0.0.0', httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false, adminToken: ADMIN });
  await cloud.gateways.addGateway(GW);
});

after(async () => {
  await cloud?.stop();
});

const get = (path: string, token?: string): Promise<Response> => fetch(`${cloud.httpUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const post = (path: string, token?: string): Promise<Response> => fetch(`${cloud.httpUrl}${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

test('units and metrics need credentials off loopback', async () => {
  const tally = new Tally();
  for (const [path, token] of [['/api/v1/units', undefined], ['/metrics', undefined], ['/metrics', 'wrong-token'], ['/api/v1/units', 'gwd_forged_key']] as const) {
    const res = await get(path, token);
    await res.arrayBuffer();
    tally.record(`${path} with ${token ?? 'no token'}`, res.status !== 401);
  }
  tally.assertNoneAccepted();
  const metrics = await get('/metrics', ADMIN);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /gridwatch_mqtt_refused_total|gridwatch_mqtt_connections_total/);
});

test('the console is served with a CSP and security headers', async () => {
  const res = await get('/');
  await res.arrayBuffer();
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('x-powered-by'), null);
});

test('admin gateway routes: refused without the admin token; disable and rotate revoke at once', async () => {
  const tally = new Tally();
  for (const verb of ['disable', 'enable', 'remove', 'rotate']) {
    const res = await post(`/api/v1/gateways/${GW.gatewayId}/${verb}`);
    await res.arrayBuffer();
    tally.record(`${verb} without admin token`, res.status !== 401);
  }
  assert.equal((await tryConnect(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret })).accepted, true, 'still active');
  const session = await connectAs(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret });
  const sessionClosed = closed(session);
  const rotated = await post(`/api/v1/gateways/${GW.gatewayId}/rotate`, ADMIN);
  assert.equal(rotated.status, 200);
  const { secret } = (await rotated.json()) as { secret: string };
  await sessionClosed;
  tally.record('old secret after REST rotate', (await tryConnect(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret })).accepted);
  assert.equal((await post(`/api/v1/gateways/${GW.gatewayId}/disable`, ADMIN)).status, 200);
  tally.record('disabled via REST', (await tryConnect(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: secret })).accepted);
  assert.equal((await post('/api/v1/gateways/gw-nobody/disable', ADMIN)).status, 404);
  tally.assertNoneAccepted();
});

test('planted regression: the same requests against a cloud with the exposure rules off (loopback, open access) are answered', async () => {
  // /units needs a reader and /metrics a token only off loopback with open access off; a loopback
  // demo cloud is those rules switched off, so the same anonymous requests must get through.
  const demo = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
  try {
    const tally = new Tally();
    for (const path of ['/api/v1/units', '/metrics']) {
      const res = await fetch(`${demo.httpUrl}${path}`);
      await res.arrayBuffer();
      tally.record(`${path} with no token`, res.status !== 401);
    }
    assert.throws(() => tally.assertNoneAccepted(), /attempts accepted/);
    assert.deepEqual(Object.values(tally.summary()).map((c) => c.accepted), [1, 1]);
  } finally {
    await demo.stop();
  }
});
