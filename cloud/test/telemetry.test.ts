// Telemetry into a real server speaking both InfluxDB write APIs (VictoriaMetrics), written through
// @influxdata/influxdb-client and read back via /api/v1/export. Skipped on a developer machine
// without victoria-metrics; in CI (CI=true) a missing server fails the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../src/index.ts';
import { InfluxSink, toLine } from '../src/telemetry/influx.ts';
import { v1WritePath } from '../src/telemetry/write-api.ts';
import { createTempDatabase, eventually, type TempDatabase } from './helpers.ts';
import { hasVictoriaMetrics, skipWithout, VictoriaMetrics } from './support-vm.ts';

const skip = skipWithout(hasVictoriaMetrics, 'victoria-metrics');
const GW = { gatewayId: 'gw-tel-01', site: 'sz-nanshan', secret: 'telemetry-secret-1' };
let vm: VictoriaMetrics;
let db: TempDatabase;
let cloud: Cloud;

before(async () => {
  if (skip) return;
  vm = new VictoriaMetrics();
  await vm.start();
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', influxUrl: vm.url, influxToken: 'unused-by-vm', influxBucket: 'gw' });
  await cloud.gateways.addGateway(GW);
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
  await vm?.stop();
});

test('line protocol escapes tags, maps booleans, keeps strings as string fields, refuses non-finite numbers', () => {
  assert.equal(toLine('gw 1', { deviceId: 'd,1', point: 'temp', value: 21.5, t: 5 }), 'reading,device=d\\,1,gateway=gw\\ 1,point=temp value=21.5 5');
  assert.equal(toLine('g', { deviceId: 'd', point: 'door', value: true, t: 5 }), 'reading,device=d,gateway=g,point=door value=1 5');
  assert.equal(toLine('g', { deviceId: 'd', point: 'mode', value: 'a "b"', t: 5 }), 'reading,device=d,gateway=g,point=mode text="a \\"b\\"" 5');
  assert.equal(toLine('g', { deviceId: 'd', point: 'x', value: Number.NaN, t: 5 }), null);
});

test('the v1 write path names the database, retention policy, precision and credentials', () => {
  assert.equal(v1WritePath('/api/v2/write?org=o&bucket=gw%2Fweek&precision=ms', 'gw/week', null), '/write?db=gw&rp=week&precision=ms');
  assert.equal(v1WritePath('/api/v2/write?org=o&bucket=gw&precision=ms', 'gw', 'writer:s3cret'), '/write?db=gw&precision=ms&u=writer&p=s3cret');
});

async function writeAndExport(api: 'v1' | 'v2', gatewayId: string): Promise<void> {
  const sink = new InfluxSink({ api, url: vm.url, token: null, org: 'o', bucket: 'b', log: pino({ level: 'silent' }), batchSize: 100, flushIntervalMs: 100 });
  sink.start();
  const t0 = Date.now() - 60_000;
  const readings: Reading[] = Array.from({ length: 250 }, (_, i) => ({ deviceId: 'meter-1', point: 'kwh', value: i, t: t0 + i * 10 }));
  await sink.write(gatewayId, readings);
  await sink.flush();
  await eventually('no pending lines', () => sink.pendingLines === 0);
  await sink.stop();
  const series = await vm.export(`{__name__="reading_value",gateway="${gatewayId}"}`);
  assert.equal(series.length, 1);
  // VictoriaMetrics adds the v1 API's database as a `db` label.
  const expectedLabels = { __name__: 'reading_value', device: 'meter-1', gateway: gatewayId, point: 'kwh', ...(api === 'v1' ? { db: 'b' } : {}) };
  assert.deepEqual(series[0]!.metric, expectedLabels);
  assert.equal(series[0]!.values.length, 250);
  assert.deepEqual(series[0]!.timestamps.slice(0, 3), [t0, t0 + 10, t0 + 20]);
  assert.deepEqual(series[0]!.values.slice(-2), [248, 249]);
}

test('InfluxSink writes over the v2 API (/api/v2/write) and the points read back', { skip }, async () => {
  await writeAndExport('v2', 'gw-direct-v2');
});

test('InfluxSink writes over the v1 API (/write?db=) and the points read back', { skip }, async () => {
  await writeAndExport('v1', 'gw-direct-v1');
});

test('telemetry over MQTT reaches the TSDB, batched, and the latest value stays in memory', { skip }, async () => {
  const gateway = await mqtt.connectAsync(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret, reconnectPeriod: 0 });
  const t0 = Date.now() - 30_000;
  const batches = 3;
  const perBatch = 2000;
  for (let b = 0; b < batches; b += 1) {
    const readings: Reading[] = Array.from({ length: perBatch }, (_, i) => ({ deviceId: `dev-${i % 20}`, point: 'temp_c', value: 20 + (i % 10) / 10, t: t0 + b * perBatch + i }));
    await gateway.publishAsync(topicFor(GW, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: GW.gatewayId, seq: b + 1, sentAt: Date.now(), readings }), { qos: 1 });
  }
  await eventually('all lines confirmed by the TSDB', async () => (await cloud.metrics.telemetryWritten.get()).values[0]?.value === batches * perBatch, 15_000);
  const series = await vm.export(`{__name__="reading_value",gateway="${GW.gatewayId}"}`);
  assert.equal(series.length, 20, 'one series per device');
  assert.equal(series.reduce((n, s) => n + s.values.length, 0), batches * perBatch);
  assert.ok(cloud.ingest.latest.get(GW.gatewayId, 'dev-0', 'temp_c'));
  await gateway.endAsync();
});
