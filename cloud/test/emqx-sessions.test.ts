// Rotating or disabling a gateway closes its open EMQX session through EMQX's management API
// (gateways/emqx-sessions.ts). A local HTTP server stands in for EMQX and checks each request as
// EMQX 5 documents it: `DELETE /api/v5/clients/{clientid}`, HTTP Basic with the API key as user and
// the secret key as password; 204 when the client was kicked, 404 when it is not connected, 401
// for any other credential.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { pino } from 'pino';
import { EmqxSessionKicker } from '../src/gateways/emqx-sessions.ts';
import type { GatewayChangeFeed } from '../src/gateways/change-feed.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { eventually } from './helpers.ts';

const API_KEY = 'gridwatch-cloud';
const API_SECRET = 'emqx-api-secret-key-0001';
const GW = { gatewayId: 'gw-kick-01', site: 'site-k', secret: 'emqx-kick-secret-01' };

interface Seen {
  method: string;
  url: string;
  authorized: boolean;
}

let emqx: http.Server;
let emqxUrl: string;
const seen: Seen[] = [];
/** Client ids "connected" to the fake EMQX. */
const connected = new Set<string>();
let cloud: Cloud;

before(async () => {
  emqx = http.createServer((req, res) => {
    const expected = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`;
    const authorized = req.headers.authorization === expected;
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorized });
    const match = /^\/api\/v5\/clients\/([^/?]+)$/.exec(req.url ?? '');
    if (!authorized) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"BAD_API_KEY_OR_SECRET"}');
    if (req.method !== 'DELETE' || !match) return void res.writeHead(404).end();
    const clientId = decodeURIComponent(match[1] as string);
    if (!connected.delete(clientId)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"CLIENTID_NOT_FOUND"}');
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => emqx.listen(0, '127.0.0.1', () => resolve()));
  emqxUrl = `http://127.0.0.1:${(emqx.address() as { port: number }).port}`;
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', emqxApiUrl: `${emqxUrl}/`, emqxApiKey: API_KEY, emqxApiSecret: API_SECRET });
  await cloud.gateways.addGateway(GW);
  // Adding is a change too: its kick (a 404, nothing connected) must be in before the tests count.
  await eventually('the add kicked (404)', () => seen.length > 0);
});

after(async () => {
  await cloud?.stop();
  emqx?.closeAllConnections();
  await new Promise<void>((resolve) => emqx.close(() => resolve()));
});

const kicksOf = (clientId: string): Seen[] => seen.filter((s) => s.url === `/api/v5/clients/${clientId}`);

test('rotate: the cloud asks EMQX to close the old session, exactly as EMQX documents the call', async () => {
  connected.add(GW.gatewayId);
  const before = kicksOf(GW.gatewayId).length;
  await cloud.gateways.rotate(GW.gatewayId);
  await eventually('EMQX kicked the session', () => !connected.has(GW.gatewayId));
  const kick = kicksOf(GW.gatewayId).slice(before);
  assert.deepEqual(kick, [{ method: 'DELETE', url: `/api/v5/clients/${GW.gatewayId}`, authorized: true }]);
});

test('disable kicks too; a gateway that is not connected is a 404 and nothing else happens', async () => {
  connected.add(GW.gatewayId);
  await cloud.gateways.setLifecycle(GW.gatewayId, 'disabled');
  await eventually('EMQX kicked the disabled gateway', () => !connected.has(GW.gatewayId));
  const before = kicksOf(GW.gatewayId).length;
  await cloud.gateways.setLifecycle(GW.gatewayId, 'removed');
  await eventually('a second DELETE, answered 404', () => kicksOf(GW.gatewayId).length > before);
  assert.ok(seen.every((s) => s.authorized && s.method === 'DELETE'), JSON.stringify(seen));
});

test('the kicker reports kicked, absent and failed (wrong key: 401; EMQX down)', async () => {
  const changes = { on: () => undefined, off: () => undefined } as unknown as GatewayChangeFeed;
  const log = pino({ level: 'silent' });
  connected.add('gw-odd id');
  const right = new EmqxSessionKicker({ url: emqxUrl, apiKey: API_KEY, apiSecret: API_SECRET }, changes, log);
  assert.equal(await right.kick('gw-odd id'), 'kicked', 'the client id is URL-encoded');
  assert.equal(await right.kick('gw-odd id'), 'absent');
  assert.equal(await new EmqxSessionKicker({ url: emqxUrl, apiKey: API_KEY, apiSecret: 'wrong' }, changes, log).kick('gw-x'), 'failed');
  assert.equal(await new EmqxSessionKicker({ url: 'http://127.0.0.1:1', apiKey: API_KEY, apiSecret: API_SECRET, timeoutMs: 1000 }, changes, log).kick('gw-x'), 'failed');
});

test('emqxApiUrl needs the API key and secret', async () => {
  const { resolveConfig } = await import('../src/config.ts');
  assert.throws(() => resolveConfig({ emqxApiUrl: 'http://emqx:18083' }), /emqxApiUrl: needs emqxApiKey and emqxApiSecret/);
});
