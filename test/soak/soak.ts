// The fault suite run like a benchmark: a cloud on PostgreSQL, our own Mosquitto, N edge agents
// with simulated MQTT and Modbus smoke detectors raising and clearing alarms at a steady rate,
// random faults for a number of cycles, a drain, then the figures (see verify.ts for definitions).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.ts';
import { CloudProcess } from './cloud-process.ts';
import { createSoakDatabase, type SoakDatabase, type SoakGateway } from './database.ts';
import { ALARM_TYPE } from './detectors.ts';
import { EdgeSite } from './edge-site.ts';
import { FAULTS, runFault, type Fault, type FaultContext } from './faults.ts';
import { allMet, figure, percentile, type SoakFigure } from './figures.ts';
import { AlarmGenerator } from './generator.ts';
import { Ledger } from './ledger.ts';
import { Mosquitto } from './mosquitto.ts';
import { createRandom, type Random } from './prng.ts';
import { dumpSources, loadSources, unstored, verify } from './verify.ts';
import { sleep } from './wait.ts';

export interface SoakOptions {
  cycles: number;
  seed: number;
  edges: number;
  mqttDevicesPerEdge: number;
  modbusDevicesPerEdge: number;
  /** Pause before each fault, ms (alarms keep flowing meanwhile). */
  pauseMs: [min: number, max: number];
  drainTimeoutS: number;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

export interface SoakResult {
  figures: SoakFigure[];
  ok: boolean;
  faults: Record<Fault, number>;
  problems: string[];
  /** Run folder with every process's log; removed when ok and not `keep`. */
  dir: string;
}

/** Everything a run started, stopped in reverse order; safe to call twice (SIGINT, then finally). */
export class Resources {
  private readonly stops: Array<() => Promise<void>> = [];

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async release(): Promise<void> {
    while (this.stops.length > 0) await this.stops.pop()!().catch(() => undefined);
  }
}

interface World {
  dir: string;
  db: SoakDatabase;
  broker: Mosquitto;
  cloud: CloudProcess;
  sites: EdgeSite[];
}

async function startWorld(options: SoakOptions, resources: Resources): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-soak-'));
  const gateways: SoakGateway[] = Array.from({ length: options.edges }, (_, i) => ({ gatewayId: `gw-soak-${i + 1}`, site: 'soak', secret: `soak-secret-${i + 1}-000000` }));
  const db = await createSoakDatabase(gateways);
  resources.add(() => db.drop());
  const broker = new Mosquitto(dir, await freePort());
  resources.add(() => broker.stop());
  await broker.start();
  const cloud = new CloudProcess({ databaseUrl: db.url, brokerUrl: broker.url, logFile: join(dir, 'cloud.ndjson') });
  resources.add(() => cloud.kill('SIGKILL'));
  await cloud.start();
  const sites = gateways.map((gateway) => new EdgeSite({ gateway, dir: join(dir, gateway.gatewayId), brokerPort: broker.port, mqttDevices: options.mqttDevicesPerEdge, modbusDevices: options.modbusDevicesPerEdge }));
  for (const site of sites) {
    resources.add(() => site.stop());
    await site.start();
  }
  return { dir, db, broker, cloud, sites };
}

async function runCycles(options: SoakOptions, ctx: FaultContext): Promise<Record<Fault, number>> {
  const counts = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  const random: Random = ctx.random;
  for (let i = 1; i <= options.cycles; i++) {
    await sleep(random.int(options.pauseMs[0], options.pauseMs[1]));
    const fault = random.pick(FAULTS);
    counts[fault] += 1;
    const started = Date.now();
    const what = await runFault(fault, ctx);
    options.log(`cycle ${i}/${options.cycles} ${fault}: ${what} (${Date.now() - started} ms)`);
  }
  return counts;
}

/** Stops new changes, waits for the pending acks, then for every change to be in PostgreSQL. */
async function drain(world: World, generator: AlarmGenerator, ledger: Ledger, options: SoakOptions): Promise<{ drainedMs: number; drained: boolean }> {
  generator.stop();
  const started = Date.now();
  const deadline = started + options.drainTimeoutS * 1000;
  const devices = world.sites.flatMap((s) => s.devices);
  options.log(`soak: drain: ${generator.pending} changes awaiting a device ack, ${unstored(await loadSources(world.db.client, devices, ledger))} not yet in PostgreSQL`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([generator.settle(), new Promise((resolve) => (timer = setTimeout(resolve, options.drainTimeoutS * 1000)))]);
  clearTimeout(timer);
  while (Date.now() < deadline) {
    if (generator.pending === 0 && unstored(await loadSources(world.db.client, devices, ledger)) === 0) return { drainedMs: Date.now() - started, drained: true };
    await sleep(250);
  }
  return { drainedMs: Date.now() - started, drained: false };
}

function committedAtEdge(world: World): number {
  const ids = new Set<string>();
  for (const site of world.sites) {
    const mine = new Set(site.devices.map((d) => d.deviceId));
    for (const p of site.processes) for (const l of p.logs) if (l.msg === 'event durable' && l.alarmType === ALARM_TYPE && mine.has(String(l.deviceId))) ids.add(String(l.eventId));
  }
  return ids.size;
}

function writeEdgeLogs(world: World): void {
  for (const site of world.sites) {
    site.processes.forEach((p, n) => writeFileSync(join(world.dir, `${site.gateway.gatewayId}-${n + 1}.ndjson`), p.logs.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  }
}

export async function runSoak(options: SoakOptions, resources = new Resources()): Promise<SoakResult> {
  const random = createRandom(options.seed);
  options.log(`soak: seed ${random.seed}, ${options.cycles} cycles, ${options.edges} edges × (${options.mqttDevicesPerEdge} MQTT + ${options.modbusDevicesPerEdge} Modbus) smoke detectors`);
  try {
    const world = await startWorld(options, resources);
    options.log(`soak: run folder ${world.dir}`);
    const ledger = new Ledger();
    const devices = world.sites.flatMap((s) => s.devices);
    const generator = new AlarmGenerator(devices, ledger, { tickMs: 200, raisePeriodMs: 22_000, random: createRandom(random.seed ^ 0x9e3779b9), ackDeadlineMs: 120_000, log: options.log });
    resources.add(() => Promise.resolve(generator.stop()));
    generator.start();
    const faults = await runCycles(options, { sites: world.sites, cloud: world.cloud, broker: world.broker, generator, random });
    const { drainedMs, drained } = await drain(world, generator, ledger, options);
    options.log(`soak: drain ${drained ? 'complete' : 'timed out'} after ${(drainedMs / 1000).toFixed(1)} s`);
    const sources = await loadSources(world.db.client, devices, ledger);
    writeFileSync(join(world.dir, 'stored.ndjson'), dumpSources(sources));
    const verdict = verify(sources);
    writeEdgeLogs(world);
    const figures = [
      figure('raised', ledger.all().length, 'alarm changes'),
      figure('committed_at_edge', committedAtEdge(world), 'events'),
      figure('in_postgres', verdict.inPostgres, 'events'),
      figure('lost', verdict.lost, 'alarm changes', 0),
      figure('duplicated', verdict.duplicated, 'events', 0),
      figure('out_of_order', verdict.outOfOrder, 'violations', 0),
      figure('drain_s', drainedMs / 1000, 's', options.drainTimeoutS, drained),
      figure('latency_p95_s', percentile(verdict.latenciesMs, 95) / 1000, 's'),
      figure('latency_max_s', percentile(verdict.latenciesMs, 100) / 1000, 's'),
    ];
    const ok = allMet(figures);
    const problems = [...verdict.problems, ...generator.stuck.map((d) => `device ${d} gave up waiting for an acknowledgement`)];
    writeFileSync(join(world.dir, 'problems.txt'), problems.join('\n') + '\n');
    return { figures, ok, faults, problems, dir: world.dir };
  } finally {
    await resources.release();
  }
}

/** Removes the run folder of a run that met every target, unless asked to keep it. */
export function cleanRunDir(result: SoakResult, keep: boolean): void {
  if (result.ok && !keep) rmSync(result.dir, { recursive: true, force: true });
}
