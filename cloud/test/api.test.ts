// HTTP surface against PostgreSQL: query validation, 404s, health, metrics and the console files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type Cloud } from '../src/index.ts';
import { createTempDatabase, type TempDatabase } from './helpers.ts';

let db: TempDatabase;
let cloud: Cloud;

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
});

async function get(path: string): Promise<{ status: number; body: unknown; type: string | null; text: string }> {
  const res = await fetch(`${cloud.httpUrl}${path}`);
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, type, text, body: type?.includes('json') ? JSON.parse(text) : null };
}

test('ports are reported, and the backend is PostgreSQL', () => {
  assert.equal(cloud.store.backend, 'postgres');
  assert.ok(cloud.httpPort > 0 && cloud.httpPort !== 8080);
  assert.ok(cloud.mqttPort !== null && cloud.mqttPort > 0);
  assert.equal(cloud.mqttUrl, `mqtt://127.0.0.1:${cloud.mqttPort}`);
  assert.equal(cloud.httpUrl, `http://127.0.0.1:${cloud.httpPort}`);
});

test('a bad query parameter answers 400 naming it', async () => {
  for (const [query, error] of [
    ['limit=0', 'limit: expected integer 1..1000'],
    ['limit=1001', 'limit: expected integer 1..1000'],
    ['limit=abc', 'limit: expected integer 1..1000'],
    ['limit=1.5', 'limit: expected integer 1..1000'],
    ['limit=1&limit=2', 'limit: expected a single value'],
    ['status=burning', 'status: expected one of raised, dispatched, acknowledged, on_site, resolved, closed, false_alarm, test, cleared'],
  ] as const) {
    assert.deepEqual(await get(`/api/v1/incidents?${query}`).then((r) => [r.status, r.body]), [400, { error }], query);
  }
  assert.deepEqual(await get('/api/v1/incidents?limit=5&status=raised').then((r) => [r.status, r.body]), [200, { incidents: [] }]);
  assert.deepEqual(await get('/api/v1/incidents/abc').then((r) => [r.status, r.body]), [400, { error: 'id: expected a positive integer' }]);
  assert.equal((await get('/api/v1/incidents/42')).status, 404);
  assert.equal((await get('/api/v1/nothing-here')).status, 404);
});

test('health, metrics and console', async () => {
  assert.deepEqual(await get('/healthz').then((r) => [r.status, r.body]), [200, { status: 'ok', db: 'ok', broker: 'ok' }]);
  const metrics = await get('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /^gridwatch_ingest_events_total 0$/m);
  assert.match(metrics.text, /^gridwatch_mqtt_connections_total\{result="accepted"\} 2$/m, 'the ingest clients (alarms, telemetry)');
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<title>GridWatch 控制台/);
  // The console is one esbuild bundle (socket.io's client inside it), plus its PWA manifest.
  assert.match(page.text, /<script type="module" src="app\.js"><\/script>/);
  const app = await get('/app.js');
  assert.equal(app.status, 200);
  assert.match(app.text, /socket/i);
  assert.equal((await get('/manifest.webmanifest')).status, 200);
  assert.equal((await get('/socket.io/socket.io.js')).status, 200);
});

test('health turns 503 when the database is gone', async () => {
  const other = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  try {
    await other.store.close();
    const res = await fetch(`${other.httpUrl}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'degraded', db: 'down', broker: 'ok' });
  } finally {
    await other.stop();
  }
});
