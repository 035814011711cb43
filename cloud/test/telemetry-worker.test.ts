// The telemetry pipeline off ingest's event loop (telemetry/worker-pool.ts): a worker thread and
// the in-thread mode give the same verdicts (accepted with the newest reading per point, or refused
// by reason), the caller keeps its bytes, and through the cloud a refused batch is dead-lettered
// and counted by reason while an accepted one updates the latest values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { TelemetryPipeline, forTransfer } from '../src/telemetry/worker-pool.ts';
import { newestPerPoint } from '../src/telemetry/worker-protocol.ts';
import { connectGateway, eventually } from './helpers.ts';

const batch = (gatewayId: string, readings: Reading[]): Buffer => Buffer.from(encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId, seq: 1, sentAt: Date.now(), readings }));
const readings: Reading[] = [
  { deviceId: 'meter-1', point: 'kwh', value: 2, t: 20 },
  { deviceId: 'meter-1', point: 'kwh', value: 1, t: 10 },
  { deviceId: 'door-1', point: 'open', value: true, t: 15 },
];

test('the newest reading per point wins, whatever the order in the batch', () => {
  assert.deepEqual(newestPerPoint(readings), { devices: ['meter-1', 'door-1'], points: ['kwh', 'open'], values: [2, true], times: [20, 15] });
});

test('the bytes handed to a worker are a copy: the caller keeps its Buffer (dead letters need it)', () => {
  const socket = Buffer.from('xxxx{"a":1}yyyy');
  const payload = socket.subarray(4, 11);
  const { bytes, transfer } = forTransfer(payload);
  assert.equal(Buffer.from(bytes).toString(), '{"a":1}');
  assert.equal(transfer[0]!.byteLength, payload.byteLength, 'only the payload is moved, not the whole read buffer');
  structuredClone(bytes, { transfer });
  assert.equal(payload.toString(), '{"a":1}', 'still readable after the copy was transferred');
});

for (const workers of [1, 0]) {
  test(`verdicts with ${workers === 0 ? 'no worker (in-thread)' : 'a worker thread'}: accepted, schema, version, gateway mismatch`, async () => {
    const pipeline = new TelemetryPipeline({ workers, sink: null, log: pino({ level: 'silent' }) });
    await pipeline.start();
    try {
      const accepted = await pipeline.submit('gw-w-1', batch('gw-w-1', readings));
      assert.deepEqual(accepted, { ok: true, readings: 3, latest: newestPerPoint(readings) });
      const schema = await pipeline.submit('gw-w-1', Buffer.from('{"v":1,"gatewayId":"gw-w-1"}'));
      assert.equal(schema.ok, false);
      assert.equal(!schema.ok && schema.label, 'schema');
      const json = await pipeline.submit('gw-w-1', Buffer.from('not json'));
      assert.equal(!json.ok && json.label, 'schema');
      const version = await pipeline.submit('gw-w-1', Buffer.from(JSON.stringify({ v: 99, gatewayId: 'gw-w-1', seq: 1, sentAt: 1, readings })));
      assert.equal(!version.ok && version.label, 'version');
      const mismatch = await pipeline.submit('gw-w-2', batch('gw-w-1', readings));
      assert.deepEqual(mismatch, { ok: false, label: 'gateway_mismatch', reason: "gatewayId: gw-w-1 does not match the topic's gateway gw-w-2" });
    } finally {
      await pipeline.stop();
    }
  });
}

let cloud: Cloud;
before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent', telemetryWorkers: 1 });
});
after(async () => {
  await cloud?.stop();
});

test('through the cloud: a refused batch is dead-lettered and counted by reason, an accepted one updates the latest values', async () => {
  const gw = { gatewayId: 'gw-w-cloud', site: 'sz-w', secret: 'worker-secret-0001' };
  await cloud.gateways.addGateway(gw);
  const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
  const rejected = async (reason: string): Promise<number> => (await cloud.metrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  const before = await rejected('gateway_mismatch');
  await client.publishAsync(topicFor(gw, 'telemetry'), batch('gw-someone-else', readings), { qos: 1 });
  await client.publishAsync(topicFor(gw, 'telemetry'), batch(gw.gatewayId, readings), { qos: 1 });
  await eventually('the latest value in memory', () => cloud.ingest.latest.get(gw.gatewayId, 'meter-1', 'kwh')?.value === 2);
  assert.equal(await rejected('gateway_mismatch'), before + 1);
  const letters = await cloud.store.query<{ reason: string }>('SELECT reason FROM dead_letters WHERE gateway_id = $1', [gw.gatewayId]);
  assert.deepEqual(letters.map((l) => l.reason), ["gatewayId: gw-someone-else does not match the topic's gateway gw-w-cloud"]);
  await client.endAsync();
});
