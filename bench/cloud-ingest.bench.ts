// Cloud ingest under load: gateways (a child process, so the cloud's event loop is measured alone)
// publish telemetry batches of 5,000 readings through the embedded broker into ingest →
// @influxdata/influxdb-client → VictoriaMetrics (InfluxDB v2 write API). Figures:
//   readings_per_s          phase 1: readings confirmed by the TSDB per second, offered flat out
//   alarm_to_socket_p99_ms  phase 2: one alarm every 100 ms while 100,000 readings/s (the target
//                           throughput; BENCH_ALARM_LOAD) flow: event published → incident
//                           committed (PostgreSQL) → socket.io client
// Needs victoria-metrics and PostgreSQL (GRIDWATCH_TEST_PG_URL). Args: [seconds=10] [gateways=4].
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { io as ioClient } from 'socket.io-client';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { startCloud, type Incident } from '@gridwatch/cloud';
import { alarmEvent, connectGateway, createTempDatabase, delay, eventsMessage, eventually } from '../cloud/test/helpers.ts';
import { freePort } from '../cloud/test/support-vm.ts';
import { percentile } from './report.ts';
import { atLeast, atMost, reportWithTargets } from './support/figures.ts';

const seconds = Number(process.argv[2] ?? 10);
const gatewayCount = Number(process.argv[3] ?? 4);
/** Telemetry offered while alarm latency is measured: the throughput target. */
const ALARM_LOAD = Number(process.env.BENCH_ALARM_LOAD ?? 100_000);

const vmDir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-vm-'));
const vmPort = await freePort();
const vmUrl = `http://127.0.0.1:${vmPort}`;
const vm = spawn('victoria-metrics', ['-storageDataPath', vmDir, '-httpListenAddr', `127.0.0.1:${vmPort}`, '-retentionPeriod', '100y', '-loggerLevel', 'ERROR'], { stdio: 'ignore' });
await eventually('victoria-metrics', async () => ((await fetch(`${vmUrl}/health`).catch(() => null))?.ok ? true : undefined), 15_000);
const db = await createTempDatabase();
const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', influxUrl: vmUrl, influxBucket: 'bench' });

/** Runs the load generator in a child process for `seconds` and returns how many readings it published. */
async function offerLoad(gateways: { gatewayId: string; site: string; secret: string }[], rate: number, during: () => Promise<void>): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./support/telemetry-load.ts', import.meta.url).pathname, JSON.stringify({ mqttUrl: cloud.mqttUrl, gateways, rate })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const messages: Record<string, unknown>[] = [];
  lines.on('line', (line) => messages.push(JSON.parse(line) as Record<string, unknown>));
  await eventually('load generator ready', () => (messages.some((m) => m.ready) ? true : undefined), 15_000);
  await during();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const done = messages.find((m) => typeof m.published === 'number');
  if (!done) throw new Error('load generator did not report what it published');
  return done.published as number;
}

const written = async (): Promise<number> => (await cloud.metrics.telemetryWritten.get()).values[0]?.value ?? 0;

try {
  const gateways = [];
  for (let g = 0; g < gatewayCount; g += 1) {
    const gw = { gatewayId: `gw-bench-${g}`, site: 'sz-bench', secret: `bench-secret-${g}-xx` };
    await cloud.gateways.addGateway(gw);
    gateways.push(gw);
  }
  const alarmGw = { gatewayId: 'gw-bench-alarm', site: 'sz-bench', secret: 'bench-secret-alarm' };
  await cloud.gateways.addGateway(alarmGw);

  // Phase 1 — capacity: telemetry as fast as the cloud acknowledges it, every reading confirmed by the TSDB.
  const before = await written();
  const started = performance.now();
  const published = await offerLoad(gateways, 0, () => delay(seconds * 1000));
  await cloud.telemetry?.flush();
  await eventually('TSDB confirmed every reading', async () => ((await written()) - before >= published ? true : undefined), 60_000);
  const elapsed = (performance.now() - started) / 1000;
  const readingsPerS = ((await written()) - before) / elapsed;
  console.error(`phase 1: ${published} readings published in ${seconds} s, all confirmed after ${elapsed.toFixed(1)} s`);

  // Phase 2 — alarm latency while the cloud ingests the target load of telemetry (ALARM_LOAD readings/s).
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
  const offered = await offerLoad(gateways, ALARM_LOAD, async () => {
    await delay(1000);
    for (let seq = 1; seq <= seconds * 10; seq += 1) {
      const event = alarmEvent(alarmGw.gatewayId, seq, { deviceId: `smoke-${seq}`, addressId: undefined, edgeTime: Date.now() });
      sentAt.set(event.id, performance.now());
      await alarmClient.publishAsync(topicFor(alarmGw, 'events'), encodeMessage('events', eventsMessage(alarmGw.gatewayId, [event])), { qos: 1 });
      await delay(100);
    }
    await eventually('every alarm on the socket', () => (sentAt.size === 0 ? true : undefined), 30_000).catch(() => undefined);
  });
  socket.close();
  await alarmClient.endAsync();
  const sorted = latencies.sort((a, b) => a - b);
  console.error(`phase 2: ${sorted.length} alarms under ${offered} offered readings (${ALARM_LOAD}/s target); p50 ${percentile(sorted, 50).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`);
  if (sentAt.size > 0) throw new Error(`${sentAt.size} alarms never reached the socket`);
  reportWithTargets('cloud-ingest', [
    atLeast('readings_per_s', readingsPerS, 'readings/s', 100_000),
    atMost('alarm_to_socket_p99_ms', percentile(sorted, 99), 'ms', 250),
  ]);
} finally {
  await cloud.stop();
  await db.drop();
  vm.kill('SIGTERM');
  await new Promise((resolve) => vm.once('exit', resolve));
  await rm(vmDir, { recursive: true, force: true });
}
