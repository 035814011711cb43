// Telemetry into Debian's InfluxDB 1.6, which speaks only the v1 write API (/write?db=): strings
// stay string fields, every line the server refuses or never receives is counted as dropped, and
// the client's logging arrives as one-line pino records. A missing influxd skips on a developer
// machine and fails in CI (CI=true).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud } from '../src/index.ts';
import { InfluxSink, type InfluxOptions } from '../src/telemetry/influx.ts';
import { createTempDatabase, eventually } from './helpers.ts';
import { hasInfluxd, Influx1 } from './support-influx.ts';
import { freePort, skipWithout } from './support-vm.ts';

const skip = skipWithout(hasInfluxd, 'influxd');
let influx: Influx1;

before(async () => {
  if (skip) return;
  influx = new Influx1();
  await influx.start();
  await influx.createDatabase('gw');
});

after(async () => {
  await influx?.stop();
});

/** A sink whose log lines are kept (as parsed records and raw text) and whose counters are read back. */
function sinkWithLog(options: Partial<InfluxOptions>): { sink: InfluxSink; raw: string[]; counts: { written: number; dropped: number } } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  const counts = { written: 0, dropped: 0 };
  const sink = new InfluxSink({
    api: 'v1',
    url: influx?.url ?? 'http://127.0.0.1:1',
    token: null,
    org: 'unused',
    bucket: 'gw',
    log: pino({ level: 'debug' }, stream),
    batchSize: 50,
    flushIntervalMs: 50,
    minRetryDelayMs: 10,
    onWritten: (n) => (counts.written += n),
    onDropped: (n) => (counts.dropped += n),
    ...options,
  });
  return { sink, raw, counts };
}

const now = Date.now();
const readings = (gatewayDevice: string, n: number, value: (i: number) => Reading['value']): Reading[] =>
  Array.from({ length: n }, (_, i) => ({ deviceId: gatewayDevice, point: 'p', value: value(i), t: now - 60_000 + i }));

test('v1 writes numbers, booleans and strings; strings read back as strings, not zeros', { skip }, async () => {
  const { sink, counts } = sinkWithLog({});
  sink.start();
  await sink.write('gw-1', [
    { deviceId: 'meter', point: 'kwh', value: 12.5, t: now - 3000 },
    { deviceId: 'door', point: 'open', value: true, t: now - 2000 },
    { deviceId: 'pump', point: 'mode', value: '自动 "auto"', t: now - 1000 },
  ]);
  await sink.flush();
  await sink.stop();
  assert.deepEqual(counts, { written: 3, dropped: 0 });
  const text = await influx.query('SELECT "text" FROM "reading" WHERE "point" = \'mode\'', 'gw');
  assert.deepEqual(text[0]?.values, [[now - 1000, '自动 "auto"']]);
  const numbers = await influx.query('SELECT "value" FROM "reading" WHERE "gateway" = \'gw-1\' AND "value" >= 0', 'gw');
  assert.deepEqual(numbers[0]?.values, [[now - 3000, 12.5], [now - 2000, 1]]);
});

test('a server without the v2 API (InfluxDB 1.6 answers 404) drops and counts every line, logged once per batch without a stack', { skip }, async () => {
  const { sink, raw, counts } = sinkWithLog({ api: 'v2' });
  sink.start();
  await sink.write('gw-2', readings('d', 120, (i) => i));
  await eventually('all 120 lines counted as dropped', () => counts.dropped === 120);
  await sink.stop();
  assert.equal(counts.written, 0);
  assert.equal(sink.pendingLines, 0);
  const records = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  const drops = records.filter((r) => r.msg === 'telemetry write failed; lines dropped');
  assert.equal(drops.length, 3, 'one warning per batch of 50, 50, 20');
  assert.equal(drops[0]!.status, 404);
  for (const line of raw) assert.ok(!/\n\s+at /.test(line) && !JSON.stringify(JSON.parse(line)).includes('\\n    at '), `no stack trace in ${line}`);
});

test('refusals from the server (database not found, field type conflict) are counted as dropped, not retried', { skip }, async () => {
  const missing = sinkWithLog({ bucket: 'no_such_db' });
  missing.sink.start();
  await missing.sink.write('gw-3', readings('d', 10, (i) => i));
  await eventually('10 dropped for the missing database', () => missing.counts.dropped === 10);
  await missing.sink.stop();
  assert.ok(missing.raw.some((l) => l.includes('database not found')), 'the server reason is logged');

  // A `value` field stored as a string in this database (written by something else): the sink's float
  // for it is refused with 400 "field type conflict", which no retry can fix.
  await influx.createDatabase('conflict');
  const res = await fetch(`${influx.url}/write?db=conflict&precision=ms`, { method: 'POST', body: `reading,device=x,gateway=gw-4,point=p value="str" ${now - 10_000}` });
  assert.equal(res.status, 204);
  const conflict = sinkWithLog({ bucket: 'conflict' });
  conflict.sink.start();
  await conflict.sink.write('gw-4', readings('d', 5, (i) => i));
  await eventually('5 dropped for the type conflict', () => conflict.counts.dropped === 5);
  await conflict.sink.stop();
  assert.ok(conflict.raw.some((l) => l.includes('field type conflict')), 'the server reason is logged');
  assert.equal(conflict.counts.written, 0);
});

test('an unreachable server: retried with back-off, then every line counted as dropped', async () => {
  const port = await freePort();
  const { sink, raw, counts } = sinkWithLog({ url: `http://127.0.0.1:${port}` });
  sink.start();
  await sink.write('gw-5', readings('d', 30, (i) => i));
  await eventually('30 lines dropped after the retries', () => counts.dropped === 30, 20_000);
  await sink.stop();
  const retries = raw.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'telemetry write failed; retrying');
  assert.equal(retries.length, 5, 'five retries before giving up');
  assert.equal(counts.written, 0);
});

test('the cloud counts lines the server refuses in gridwatch_telemetry_lines_dropped_total', { skip }, async () => {
  const db = await createTempDatabase();
  // The v2 API against InfluxDB 1.6: every write answers 404.
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', influxApi: 'v2', influxUrl: influx.url, influxBucket: 'gw' });
  try {
    const gw = { gatewayId: 'gw-v2-refused', site: 'sz-luohu', secret: 'telemetry-secret-3' };
    await cloud.gateways.addGateway(gw);
    const client = await mqtt.connectAsync(cloud.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret, reconnectPeriod: 0 });
    const batch = readings('d', 7, (i) => i);
    await client.publishAsync(topicFor(gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, seq: 1, sentAt: Date.now(), readings: batch }), { qos: 1 });
    await client.endAsync();
    await eventually('7 lines counted as dropped', async () => (await cloud.metrics.telemetryDropped.get()).values[0]?.value === 7, 10_000);
    assert.equal((await cloud.metrics.telemetryWritten.get()).values[0]?.value ?? 0, 0);
  } finally {
    await cloud.stop();
    await db.drop();
  }
});

test('the cloud configured for the v1 API writes MQTT telemetry into InfluxDB 1.6', { skip }, async () => {
  const db = await createTempDatabase();
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', influxApi: 'v1', influxUrl: influx.url, influxBucket: 'gw' });
  try {
    const gw = { gatewayId: 'gw-v1-cloud', site: 'sz-luohu', secret: 'telemetry-secret-2' };
    await cloud.gateways.addGateway(gw);
    const client = await mqtt.connectAsync(cloud.mqttUrl, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret, reconnectPeriod: 0 });
    const batch = [
      { deviceId: 'pump', point: 'state', value: '运行', t: now - 500 },
      { deviceId: 'pump', point: 'pressure_mpa', value: 0.42, t: now - 400 },
    ];
    await client.publishAsync(topicFor(gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, seq: 1, sentAt: Date.now(), readings: batch }), { qos: 1 });
    await eventually('2 lines confirmed', async () => (await cloud.metrics.telemetryWritten.get()).values[0]?.value === 2, 10_000);
    await client.endAsync();
    const rows = await influx.query(`SELECT "text", "value" FROM "reading" WHERE "gateway" = '${gw.gatewayId}'`, 'gw');
    assert.deepEqual(rows[0]?.values, [[now - 500, '运行', null], [now - 400, null, 0.42]]);
  } finally {
    await cloud.stop();
    await db.drop();
  }
});
