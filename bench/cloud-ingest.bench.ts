// Cloud ingest under load: gateways (a child process, so the cloud's event loop is measured alone)
// publish telemetry batches of 5,000 readings at QoS 1 through the broker into ingest → its
// telemetry worker (decode, line protocol, @influxdata/influxdb-client) → VictoriaMetrics (InfluxDB
// v2 write API). Env: BENCH_TELEMETRY_WORKERS, BENCH_TELEMETRY_NICE override the cloud's
// telemetryWorkers / telemetryWorkerNice. Figures, all measured:
//   readings_per_s          phase 1: rows VictoriaMetrics itself counts as inserted
//                           (vm_rows_inserted_total{type="influx"}) per second, offered flat out
//   alarm_to_socket_p99_ms  phase 2: one alarm every 100 ms while 100,000 readings/s (the target
//                           throughput; BENCH_ALARM_LOAD) flow: event published → incident
//                           committed (PostgreSQL) → socket.io client
//   readings_lost           both phases: readings PUBACKed to the generator − rows in the TSDB
//   cloud_peak_rss_mb       the cloud's whole process (this one: the cloud runs in it), sampled
//                           every 100 ms during both phases
// Broker: the embedded aedes (default) or /usr/sbin/mosquitto started here on a free port.
// Needs victoria-metrics and PostgreSQL (GRIDWATCH_TEST_PG_URL).
// Args: [seconds=10] [gateways=100] [broker=embedded|mosquitto].
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { io as ioClient } from 'socket.io-client';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { startCloud, type Incident } from '@gridwatch/cloud';
import { alarmEvent, connectGateway, createTempDatabase, delay, eventsMessage, eventually } from '../cloud/test/helpers.ts';
import { freePort } from '../cloud/test/support-vm.ts';
import { percentile } from './report.ts';
import { atLeast, atMost, reportWithTargets } from './support/figures.ts';
import { BenchMosquitto } from './support/mosquitto.ts';

const seconds = Number(process.argv[2] ?? 10);
const gatewayCount = Number(process.argv[3] ?? 100);
const brokerKind = process.argv[4] ?? 'embedded';
if (brokerKind !== 'embedded' && brokerKind !== 'mosquitto') throw new Error(`broker: embedded or mosquitto, not ${brokerKind}`);
/** Telemetry offered while alarm latency is measured: the throughput target. */
const ALARM_LOAD = Number(process.env.BENCH_ALARM_LOAD ?? 100_000);
const loadAvg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
/** Telemetry worker threads of the cloud (telemetryWorkers; default: the cloud's own default, 1). */
const WORKERS = {
  ...(process.env.BENCH_TELEMETRY_WORKERS === undefined ? {} : { telemetryWorkers: Number(process.env.BENCH_TELEMETRY_WORKERS) }),
  ...(process.env.BENCH_TELEMETRY_NICE === undefined ? {} : { telemetryWorkerNice: Number(process.env.BENCH_TELEMETRY_NICE) }),
};
console.error(`cloud-ingest: ${gatewayCount} gateways, ${seconds} s per phase, broker ${brokerKind}; load average ${loadAvg()}`);

/**
 * The telemetry worker bundled next to this bundle, where the cloud looks first (worker-pool.ts):
 * the worker then runs as in a packaged cloud, not through tsx (its compiler and loader thread
 * would add their memory to the cloud's RSS). Workspaces are bundled, npm packages stay external.
 */
async function bundleTelemetryWorker(): Promise<void> {
  const script = process.argv[1];
  if (!script?.endsWith('.mjs')) return;
  const externalPackages: Plugin = {
    name: 'external-packages',
    setup: (b) => b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@gridwatch/') ? undefined : { path: args.path, external: true })),
  };
  const entry = fileURLToPath(new URL('../cloud/src/telemetry/worker.ts', import.meta.url));
  await build({ entryPoints: [entry], outfile: path.join(path.dirname(script), 'telemetry-worker.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', plugins: [externalPackages], logLevel: 'warning' });
}
await bundleTelemetryWorker();

const vmDir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-vm-'));
const vmPort = await freePort();
const vmUrl = `http://127.0.0.1:${vmPort}`;
const vm = spawn('victoria-metrics', ['-storageDataPath', vmDir, '-httpListenAddr', `127.0.0.1:${vmPort}`, '-retentionPeriod', '100y', '-loggerLevel', 'ERROR'], { stdio: 'ignore' });
await eventually('victoria-metrics', async () => ((await fetch(`${vmUrl}/health`).catch(() => null))?.ok ? true : undefined), 15_000);
const mosquitto = brokerKind === 'mosquitto' ? new BenchMosquitto() : null;
await mosquitto?.start();
const db = await createTempDatabase();
const brokerConfig = mosquitto ? { brokerUrl: mosquitto.url, ingestUsername: 'ingest' } : { mqttPort: 0 };
const cloud = await startCloud({ httpPort: 0, ...brokerConfig, databaseUrl: db.url, logLevel: 'silent', influxUrl: vmUrl, influxBucket: 'bench', ...WORKERS }).catch(async (err: unknown) => {
  // Nothing below runs: leave no server behind.
  await db.drop();
  await mosquitto?.stop();
  vm.kill('SIGTERM');
  await rm(vmDir, { recursive: true, force: true });
  throw err;
});

/** Rows the TSDB itself counts as inserted through its InfluxDB endpoint. */
async function tsdbRows(): Promise<number> {
  const text = await (await fetch(`${vmUrl}/metrics`)).text();
  const match = /^vm_rows_inserted_total\{type="influx"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);

/** Runs the load generator in a child process for `seconds` and returns how many readings it had PUBACKed. */
async function offerLoad(gateways: { gatewayId: string; site: string; secret: string }[], rate: number, during: () => Promise<void>): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./support/telemetry-load.ts', import.meta.url).pathname, JSON.stringify({ mqttUrl: cloud.mqttUrl, gateways, rate })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const messages: Record<string, unknown>[] = [];
  lines.on('line', (line) => messages.push(JSON.parse(line) as Record<string, unknown>));
  await eventually('load generator ready', () => (messages.some((m) => m.ready) ? true : undefined), 30_000);
  await during();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const done = messages.find((m) => typeof m.published === 'number');
  if (!done) throw new Error('load generator did not report what it published');
  return done.published as number;
}

/** Waits until the TSDB holds `expected` more rows than `before`, or until it stops growing for 30 s. */
async function settle(before: number, expected: number): Promise<number> {
  await cloud.telemetry?.flush();
  let last = -1;
  let still = performance.now();
  for (;;) {
    const rows = (await tsdbRows()) - before;
    if (rows >= expected) return rows;
    if (rows !== last) [last, still] = [rows, performance.now()];
    else if (performance.now() - still > 30_000) return rows;
    await delay(250);
  }
}

interface Gw {
  gatewayId: string;
  site: string;
  secret: string;
}

/** Phase 2: one alarm every 100 ms from its own gateway while `gateways` offer ALARM_LOAD readings/s. */
async function alarmsUnderLoad(gateways: Gw[], alarmGw: Gw): Promise<{ latencies: number[]; offered: number; missing: number }> {
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
  return { latencies: latencies.sort((a, b) => a - b), offered, missing: sentAt.size };
}

try {
  const gateways: Gw[] = [];
  for (let g = 0; g < gatewayCount; g += 1) {
    const gw = { gatewayId: `gw-bench-${g}`, site: 'sz-bench', secret: `bench-secret-${g}-xx` };
    await cloud.gateways.addGateway(gw);
    gateways.push(gw);
  }
  const alarmGw = { gatewayId: 'gw-bench-alarm', site: 'sz-bench', secret: 'bench-secret-alarm' };
  await cloud.gateways.addGateway(alarmGw);

  // Phase 1 — capacity: telemetry as fast as the broker acknowledges it, every reading counted in the TSDB.
  const before1 = await tsdbRows();
  const started = performance.now();
  // Less load-sensitive than rates: the cloud process's CPU (all its threads) per 1,000 readings,
  // and how busy the main thread (broker, ingest, alarms) was.
  const cpu1 = process.cpuUsage();
  const elu1 = performance.eventLoopUtilization();
  const published1 = await offerLoad(gateways, 0, () => delay(seconds * 1000));
  const rows1 = await settle(before1, published1);
  const elapsed = (performance.now() - started) / 1000;
  const cpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu1));
  const mainBusy = performance.eventLoopUtilization(elu1).utilization;
  console.error(`phase 1: ${published1} readings PUBACKed in ${seconds} s, ${rows1} in the TSDB after ${elapsed.toFixed(1)} s; cloud CPU ${(cpuMs / (rows1 / 1000)).toFixed(2)} ms per 1k readings, main thread busy ${(mainBusy * 100).toFixed(0)} %`);

  // Phase 2 — alarm latency while the cloud ingests the target load of telemetry (ALARM_LOAD readings/s).
  const before2 = await tsdbRows();
  const phase2 = await alarmsUnderLoad(gateways, alarmGw);
  const rows2 = await settle(before2, phase2.offered);
  clearInterval(sampler);
  const sorted = phase2.latencies;
  console.error(`phase 2: ${sorted.length} alarms under ${phase2.offered} offered readings (${ALARM_LOAD}/s target), ${rows2} in the TSDB; p50 ${percentile(sorted, 50).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`);
  const dropped = (await cloud.metrics.telemetryDropped.get()).values[0]?.value ?? 0;
  const brokerDropped = mosquitto ? await mosquitto.dropped() : 0;
  console.error(`telemetry dropped by the cloud's policy: ${dropped} lines; by the broker: ${brokerDropped} messages; mosquitto peak RSS ${mosquitto?.peakRssMb().toFixed(0) ?? '-'} MB; process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${loadAvg()}`);
  for (const line of mosquitto?.logLines('gridwatch-ingest-') ?? []) console.error(`mosquitto: ${line}`);
  if (phase2.missing > 0) throw new Error(`${phase2.missing} alarms never reached the socket`);
  reportWithTargets('cloud-ingest', [
    atLeast('readings_per_s', rows1 / elapsed, 'readings/s', 100_000),
    atMost('alarm_to_socket_p99_ms', percentile(sorted, 99), 'ms', 250),
    atMost('readings_lost', published1 + phase2.offered - rows1 - rows2, 'readings', 0),
    atMost('cloud_peak_rss_mb', peakRss / 1024 / 1024, 'MB', 400),
  ]);
} finally {
  clearInterval(sampler);
  await cloud.stop();
  await db.drop();
  await mosquitto?.stop();
  vm.kill('SIGTERM');
  await new Promise((resolve) => vm.once('exit', resolve));
  await rm(vmDir, { recursive: true, force: true });
}
