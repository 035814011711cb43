// EMQX HTTP authentication/authorization hooks, called the way EMQX 5 calls them (JSON bodies with
// clientid, username, password, peerhost / topic, action). Reuses the broker's topic ACL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type Cloud } from '../src/index.ts';
import { createTempDatabase, type TempDatabase } from './helpers.ts';

const SECRET = 'emqx-shared-secret';
const GW = { gatewayId: 'gw-emqx-01', site: 'sz-futian', secret: 'emqx-gateway-secret' };
const OTHER = { gatewayId: 'gw-emqx-02', site: 'sz-futian', secret: 'emqx-gateway-secret-2' };
let db: TempDatabase;
let cloud: Cloud;

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', emqxSecret: SECRET, ingestUsername: 'ingest', ingestPassword: 'ingest-password-1' });
  await cloud.gateways.addGateway(GW);
  await cloud.gateways.addGateway(OTHER);
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
});

async function hook(path: 'auth' | 'acl', body: unknown, secret: string | null = SECRET): Promise<[number, unknown]> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/emqx/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-gridwatch-emqx-secret': secret } : {}) },
    body: JSON.stringify(body),
  });
  return [res.status, await res.json()];
}

test('CONNECT: a gateway with its secret and its own id as client id is allowed; anything else is denied', async () => {
  const allow = { result: 'allow', is_superuser: false };
  const deny = { result: 'deny', is_superuser: false };
  assert.deepEqual(await hook('auth', { clientid: GW.gatewayId, username: GW.gatewayId, password: GW.secret, peerhost: '10.0.0.5' }), [200, allow]);
  assert.deepEqual(await hook('auth', { clientid: GW.gatewayId, username: GW.gatewayId, password: 'wrong-secret!', peerhost: '10.0.0.5' }), [200, deny]);
  assert.deepEqual(await hook('auth', { clientid: 'gw-nobody', username: 'gw-nobody', password: 'whatever-secret', peerhost: '10.0.0.6' }), [200, deny]);
  // Identity binding: GW's own credential with OTHER's client id (a takeover attempt), or none.
  assert.deepEqual(await hook('auth', { clientid: OTHER.gatewayId, username: GW.gatewayId, password: GW.secret, peerhost: '10.0.0.5' }), [200, deny]);
  assert.deepEqual(await hook('auth', { clientid: `${GW.gatewayId}-2`, username: GW.gatewayId, password: GW.secret, peerhost: '10.0.0.5' }), [200, deny]);
  assert.deepEqual(await hook('auth', { username: GW.gatewayId, password: GW.secret, peerhost: '10.0.0.5' }), [200, deny]);
  assert.deepEqual(await hook('auth', { clientid: 'gridwatch-ingest-alarms-1', username: 'ingest', password: 'ingest-password-1', peerhost: '10.0.0.2' }), [200, allow]);
  assert.deepEqual(await hook('auth', { clientid: GW.gatewayId, username: 'ingest', password: 'ingest-password-1', peerhost: '10.0.0.2' }), [200, deny]);
  assert.deepEqual(await hook('auth', { clientid: 'gridwatch-ingest-alarms-1', username: 'ingest', password: 'nope', peerhost: '10.0.0.2' }), [200, deny]);
});

test('CONNECT: a disabled gateway and a rotated secret are denied at once', async () => {
  const body = { clientid: OTHER.gatewayId, username: OTHER.gatewayId, password: OTHER.secret };
  await cloud.gateways.setLifecycle(OTHER.gatewayId, 'disabled');
  assert.deepEqual(await hook('auth', body), [200, { result: 'deny', is_superuser: false }]);
  await cloud.gateways.setLifecycle(OTHER.gatewayId, 'active');
  assert.deepEqual(await hook('auth', body), [200, { result: 'allow', is_superuser: false }]);
  const rotated = await cloud.gateways.rotate(OTHER.gatewayId);
  assert.deepEqual(await hook('auth', body), [200, { result: 'deny', is_superuser: false }]);
  assert.deepEqual(await hook('auth', { ...body, password: rotated.secret }), [200, { result: 'allow', is_superuser: false }]);
});

test('PUBLISH/SUBSCRIBE: own prefix allowed, another gateway’s prefix denied', async () => {
  const acl = (username: string, topic: string, action: string): Promise<[number, unknown]> => hook('acl', { clientid: 'c', username, topic, action, peerhost: '10.0.0.5' });
  assert.deepEqual(await acl(GW.gatewayId, 'gw/sz-futian/gw-emqx-01/events', 'publish'), [200, { result: 'allow' }]);
  assert.deepEqual(await acl(GW.gatewayId, 'gw/sz-futian/gw-emqx-02/events', 'publish'), [200, { result: 'deny' }], 'another gateway’s prefix');
  assert.deepEqual(await acl(GW.gatewayId, 'gw/sz-futian/gw-emqx-01/ack', 'publish'), [200, { result: 'deny' }], 'downlink topics are the cloud’s');
  assert.deepEqual(await acl(GW.gatewayId, 'gw/sz-futian/gw-emqx-01/ack', 'subscribe'), [200, { result: 'allow' }]);
  assert.deepEqual(await acl(GW.gatewayId, 'gw/+/+/ack', 'subscribe'), [200, { result: 'deny' }], 'no wildcards');
  assert.deepEqual(await acl('gw-nobody', 'gw/sz-futian/gw-nobody/events', 'publish'), [200, { result: 'deny' }]);
  assert.deepEqual(await acl('ingest', '$share/ingest/gw/+/+/events', 'subscribe'), [200, { result: 'allow' }]);
});

test('the hooks need the shared secret and name bad fields', async () => {
  assert.deepEqual(await hook('auth', { username: GW.gatewayId, password: GW.secret }, null), [401, { error: 'x-gridwatch-emqx-secret: missing or wrong' }]);
  assert.deepEqual(await hook('acl', { username: GW.gatewayId, topic: 't', action: 'publish' }, 'wrong'), [401, { error: 'x-gridwatch-emqx-secret: missing or wrong' }]);
  assert.deepEqual(await hook('auth', { username: GW.gatewayId }), [400, { error: 'password: required' }]);
  assert.deepEqual(await hook('acl', { username: GW.gatewayId, topic: 't', action: 'delete' }), [400, { error: 'action: expected one of publish, subscribe' }]);
});
