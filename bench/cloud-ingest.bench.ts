// Cloud ingest under load: gateways publish telemetry batches (5,000 readings) through the embedded
// broker into ingest → @influxdata/influxdb-client → VictoriaMetrics (InfluxDB v2 write API), while
// one gateway raises an alarm every 100 ms. Figures:
//   readings_per_s          readings confirmed by the TSDB per second, end to end
//   alarm_to_socket_p99_ms  event published → incident committed (PostgreSQL) → socket.io client
// Needs victoria-metrics and PostgreSQL (GRIDWATCH_TEST_PG_URL). Args: [seconds=10] [gateways=4].
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud, type Incident } from '@gridwatch/cloud';
import { alarmEvent, connectGateway, createTempDatabase, delay, eventsMessage, waitFor } from '../cloud/test/helpers.ts';
import { freePort } from '../cloud/test/support-vm.ts';
import { percentile, report } from './report.ts';

const seconds = Number(process.argv[2] ?? 10);
const gatewayCount = Number(process.argv[3] ?? 4);
const BATCH = 5000;

const vmDir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-vm-'));
const vmPort = await freePort();
const vmUrl = `http://127.0.0.1:${vmPort}`;
const vm = spawn('victoria-metrics', ['-storageDataPath', vmDir, '-httpListenAddr', `127.0.0.1:${vmPort}`, '-retentionPeriod', '100y', '-loggerLevel', 'ERROR'], { stdio: 'ignore' });
await waitFor('victoria-metrics', async () => ((await fetch(`${vmUrl}/health`).catch(() => null))?.ok ? true : undefined), 15_000);
const db = await createTempDatabase();
const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', influxUrl: vmUrl, influxBucket: 'bench' });

try {
  const gateways = [];
  for (let g = 0; g < gatewayCount; g += 1) {
    const gw = { gatewayId: `gw-bench-${g}`, site: 'sz-bench', secret: `bench-secret-${g}-xx` };
    await cloud.gateways.addGateway(gw);
    gateways.push({ gw, client: await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret) });
  }
  const alarmGw = { gatewayId: 'gw-bench-alarm', site: 'sz-bench', secret: 'bench-secret-alarm' };
  await cloud.gateways.addGateway(alarmGw);
  const alarmClient = await connectGateway(cloud.mqttUrl, alarmGw.gatewayId, alarmGw.secret);

  const socket = ioClient(cloud.httpUrl, { transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  socket.on('incident', (incident: Incident) => {
    const t = sentAt.get(incident.firstEventId);
    if (t !== undefined && incident.occurrences === 1) {
      latencies.push(performance.now() - t);
      sentAt.delete(incident.firstEventId);
    }
  });

  let published = 0;
  let running = true;
  const started = performance.now();
  const t0 = Date.now() - 3_600_000;
  const publishers = gateways.map(async ({ gw, client }, g) => {
    let seq = 0;
    while (running) {
      seq += 1;
      const readings: Reading[] = Array.from({ length: BATCH }, (_, i) => ({ deviceId: `dev-${i % 100}`, point: `p${i % 50}`, value: i * 0.5, t: t0 + seq * BATCH + i + g }));
      await client.publishAsync(topicFor(gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, seq, sentAt: Date.now(), readings }), { qos: 1 });
      published += BATCH;
    }
  });
  const alarms = (async () => {
    let seq = 0;
    while (running) {
      seq += 1;
      const event = alarmEvent(alarmGw.gatewayId, seq, { deviceId: `smoke-${seq}`, addressId: undefined, edgeTime: Date.now() });
      sentAt.set(event.id, performance.now());
      await alarmClient.publishAsync(topicFor(alarmGw, 'events'), encodeMessage('events', eventsMessage(alarmGw.gatewayId, [event])), { qos: 1 });
      await delay(100);
    }
  })();
  await delay(seconds * 1000);
  running = false;
  await Promise.all([...publishers, alarms]);
  await cloud.telemetry?.flush();
  const written = async (): Promise<number> => (await cloud.metrics.telemetryWritten.get()).values[0]?.value ?? 0;
  await waitFor('TSDB confirmed every reading', async () => ((await written()) >= published ? true : undefined), 60_000);
  const elapsed = (performance.now() - started) / 1000;
  await delay(500);
  socket.close();
  for (const { client } of gateways) await client.endAsync();
  await alarmClient.endAsync();
  const sorted = latencies.sort((a, b) => a - b);
  console.error(`published ${published} readings in ${seconds}s, all confirmed after ${elapsed.toFixed(1)}s; ${sorted.length} alarms, p50 ${percentile(sorted, 50).toFixed(1)} ms`);
  report('cloud-ingest', [
    { metric: 'readings_per_s', value: (await written()) / elapsed, unit: 'readings/s' },
    { metric: 'alarm_to_socket_p99_ms', value: percentile(sorted, 99), unit: 'ms' },
  ]);
} finally {
  await cloud.stop();
  await db.drop();
  vm.kill('SIGTERM');
  await new Promise((resolve) => vm.once('exit', resolve));
  await rm(vmDir, { recursive: true, force: true });
}
