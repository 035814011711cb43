// node-options: --max-semi-space-size=1
// (the young-generation size the edge agent is deployed with: deploy/edge/gridwatch-edge.service)
// The edge pipeline in one process: decode → rules → outbox (alarm lane durable, readings into the
// telemetry lane) for 500 simulated gas detectors, then a 1,000,000-reading telemetry backlog
// replayed to an aedes broker while live alarms are raised. Figures:
// - readings_per_s_per_core: readings through decode → rules → outbox per CPU-second
// - alarm_latency_p99_ms: a frame that raises an alarm, from pipeline entry to the event committed
//   (SQLite WAL, synchronous=FULL)
// - replay_live_alarm_p99_ms: a live alarm raised during the backlog replay, from the frame to its
//   arrival at the cloud-side subscriber
// - rss_mb: resident memory with the 500 devices' pipeline and rule state loaded
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, type Reading } from '@gridwatch/protocol';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { RuleEngine, SqliteOutbox, SqliteRuleStore, TelemetryLane, Uplink, createMetrics, createPipeline, openDatabase, resolveConfig, type BoundDevice, type RegisterFrame } from '@gridwatch/edge';
import { percentile, report } from './report.ts';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 500);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 200_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const profile = loadProfiles().profiles.get('generic/gas-lel-modbus')!.profile as ModbusProfile;
const dir = mkdtempSync(join(tmpdir(), 'gw-bench-pipeline-'));
const logger = pino({ level: 'silent' });

const db = openDatabase(join(dir, 'edge.db'));
const outbox = new SqliteOutbox(db, 'gw-bench').init();
const telemetry = new TelemetryLane(db, { budgetBytes: 1024 * 1024 * 1024 }).init();
const metrics = createMetrics(() => 0);
const devices = new Map<string, BoundDevice>();
for (let i = 0; i < DEVICES; i++) devices.set(`gas-${i}`, { device: { id: `gas-${i}`, profile: profile.id, modbus: { bus: 'b', unitId: (i % 247) + 1 } }, profile });
const engine = new RuleEngine({ devices: [...devices.values()].map((d) => ({ deviceId: d.device.id, profile })), store: new SqliteRuleStore(db).init(), gatewayId: 'gw-bench' }).init();
const live = { onEvents: (_events: unknown[]) => undefined as void };
const pipeline = createPipeline({ devices, db, outbox, engine, telemetry, metrics, logger, onEvents: (events) => live.onEvents(events) });
const frame = (i: number, gas: number, t: number): RegisterFrame => ({ deviceId: `gas-${i % DEVICES}`, blocks: [{ table: 'input', address: 0, values: [gas * 10, 0] }], t });

// 0. Memory at 500 devices in steady state: every device has reported ten times (pipeline, rule
// state and telemetry lane warm), garbage collected — measured before the throughput burst below,
// whose transient allocations glibc keeps in its arenas and would count as the agent's own.
let t = Date.now();
for (let i = 0; i < DEVICES * 10; i++) pipeline(frame(i, 3 + (i % 5), t++));
telemetry.flush();
(globalThis as { gc?: () => void }).gc?.();
const rssMb = process.memoryUsage().rss / 1024 / 1024;
console.error(JSON.stringify({ rssMb, heapUsedMb: process.memoryUsage().heapUsed / 1048576 }));

// 1. Throughput: steady readings (no state change), telemetry flushed every 1,000 frames as the agent's timer would.
const cpu0 = process.cpuUsage();
for (let i = 0; i < FRAMES; i++) {
  pipeline(frame(i, 3 + (i % 5), t++));
  if (i % 1000 === 999) telemetry.flush();
}
telemetry.flush();
const cpu = process.cpuUsage(cpu0);
const readingsPerFrame = 4;
const readingsPerCore = (FRAMES * readingsPerFrame) / ((cpu.user + cpu.system) / 1e6);

// 2. Alarm latency: a frame that crosses 50 %LEL (gas_high + gas_low raise) or back, to committed.
const latencies: number[] = [];
for (let i = 0; i < 2000; i++) {
  const device = i % DEVICES;
  const high = Math.floor(i / DEVICES) % 2 === 0;
  const start = performance.now();
  // The pipeline's promise resolves when the frame's events are committed (group commit).
  await pipeline(frame(device, high ? 60 : 0, t++));
  latencies.push(performance.now() - start);
}
latencies.sort((a, b) => a - b);

// The rule state committed so far is not part of the replay figure: ack everything.
outbox.ack(outbox.pending(10_000).map((e) => e.id));
db.prepare('DELETE FROM outbox_telemetry').run();
telemetry.init();

// 3. Replay: 1,000,000 readings backlog, then live alarms while it drains.
for (let i = 0; i < BACKLOG; i += 10_000) {
  const batch: Reading[] = [];
  for (let j = 0; j < 10_000; j++) batch.push({ deviceId: `gas-${j % DEVICES}`, point: 'gas_concentration', value: 3, t: t + j });
  telemetry.push(batch);
  telemetry.flush();
}
const broker = await Aedes.createBroker();
const server = createServer((socket) => broker.handle(socket));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
const cloud = await mqtt.connectAsync(url, { clientId: 'bench-cloud', reconnectPeriod: 0 });
const arrived = new Map<string, number>();
let telemetryMessages = 0;
cloud.on('message', (topic, payload) => {
  if (topic.endsWith('/telemetry')) {
    telemetryMessages++;
    return;
  }
  const m = decodeMessage('events', payload);
  if (!m.ok) return;
  const now = performance.now();
  for (const e of m.value.events) if (!arrived.has(e.id)) arrived.set(e.id, now);
  void cloud.publishAsync('gw/bench/gw-bench/ack', encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), eventIds: m.value.events.map((e) => e.id) }), { qos: 1 });
});
await cloud.subscribeAsync(['gw/+/+/events', 'gw/+/+/telemetry'], { qos: 1 });
const config = resolveConfig({ version: 1, gateway: { id: 'gw-bench', site: 'bench' }, dataDir: dir, cloud: { url, password: 'pw', resendAfterMs: 5000, reconnectPeriodMs: 100 } }, 'bench', dir);
const uplink = new Uplink({ gateway: config.gateway, cloud: config.cloud, outbox, logger, metrics, telemetry });
live.onEvents = () => uplink.notify();
uplink.start();
const injected = new Map<string, number>();
const liveLatencies: number[] = [];
const replayStart = performance.now();
let k = 0;
while (telemetry.stats().chunks > 0 && k < 400) {
  await new Promise((r) => setTimeout(r, 25));
  const device = k % DEVICES;
  const start = performance.now();
  const events = pipeline.commit(() => engine.evaluate(`gas-${device}`, [{ deviceId: `gas-${device}`, point: 'gas_concentration', value: Math.floor(k / DEVICES) % 2 === 0 ? 0 : 60, t: t++ }], t));
  for (const e of events) injected.set(e.id, start);
  if (events.length === 0) {
    const again = pipeline.commit(() => engine.evaluate(`gas-${device}`, [{ deviceId: `gas-${device}`, point: 'gas_concentration', value: 60, t: t++ }], t));
    for (const e of again) injected.set(e.id, start);
  }
  k++;
}
const replayMs = performance.now() - replayStart;
const deadline = performance.now() + 10_000;
while ([...injected.keys()].some((id) => !arrived.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
for (const [id, start] of injected) if (arrived.has(id)) liveLatencies.push(arrived.get(id)! - start);
liveLatencies.sort((a, b) => a - b);
await uplink.stop();
await cloud.endAsync();
await new Promise<void>((resolve) => server.close(() => resolve()));
await new Promise<void>((resolve) => broker.close(() => resolve()));
outbox.close();
rmSync(dir, { recursive: true, force: true });
console.error(JSON.stringify({ backlog: BACKLOG, replayMs: Math.round(replayMs), telemetryMessages, liveAlarms: injected.size, delivered: liveLatencies.length }));

report('edge-pipeline', [
  { metric: 'readings_per_s_per_core', value: readingsPerCore, unit: 'readings/s' },
  { metric: 'alarm_latency_p99_ms', value: percentile(latencies, 99), unit: 'ms' },
  { metric: 'replay_live_alarm_p99_ms', value: liveLatencies.length === injected.size ? percentile(liveLatencies, 99) : Number.POSITIVE_INFINITY, unit: 'ms' },
  { metric: 'rss_mb', value: rssMb, unit: 'MB' },
]);
