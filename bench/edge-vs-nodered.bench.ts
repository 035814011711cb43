// The edge agent against a Node-RED 4 peer doing the same work (issue 12): MQTT in → parse → the
// same threshold/state rule → durable append with fdatasync → MQTT out. Both sides get the same
// load from one generator in a child process (bench/support/device-load.ts: N devices on raw MQTT
// sockets, QoS 1), alternately, `rounds` times:
// - GridWatch: the real agent (startAgent, bundled, with the Node options of the systemd unit
//   deploy/edge/gridwatch-edge.service) in its own process, devices on its embedded broker, profile
//   bench/peers/profiles/bench/gas-mqtt.yaml, telemetry lane off (the peer forwards no readings),
//   uplink to a "cloud" Mosquitto whose subscriber (this process) acks every event.
// - Node-RED: bench/peers/node-red/flow.json in node-red 4.1 (its own process, editor off), its
//   devices on a Mosquitto of its own (Node-RED has no broker), MQTT out to the same "cloud" broker.
// Phases per side: 500 devices connect; paced (every device one report a second for 6 s, 4 of
// them changing the alarm) for the latency; saturating (every device `count` reports, `window`
// unacknowledged at a time, raise and clear in the middle) for throughput and memory.
// Figures (medians over the rounds; each round's figures on stderr):
// - device_to_commit_p50_ms: publish (generator's clock) → commit (GridWatch: the agent's
//   "event durable" log line, written after the SQLite transaction; Node-RED: after fdatasync),
//   over the alarm-changing reports of the paced phase. Measured.
// - msgs_per_cpu_s: reports through the rule in the saturating phase / CPU-seconds (utime+stime
//   from /proc) of every process of the side: the agent; Node-RED + its Mosquitto. Measured.
//   The ratio GridWatch / Node-RED is computed from the two.
// - lost: reports published but not acknowledged after their commit (GridWatch) or never seen by
//   the flow (Node-RED), plus alarm changes the generator sent but no commit holds. Measured.
// - rss_peak_mb: VmHWM of the agent's process after the saturating phase, 500 devices connected. Measured.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import inspector from 'node:inspector';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { SCHEMA_VERSION, decodeMessage, encodeMessage } from '@gridwatch/protocol';
import { loadConfig, startAgent } from '@gridwatch/edge';
import { freePort } from '../test/support/ports.ts';
import { percentile, report } from './report.ts';
import { atLeast, atMost, reportWithTargets } from './support/figures.ts';
import { runDeviceLoad, type LoadCommand, type LoadDevice, type PhaseResult } from './support/device-load.ts';
import { statusMb, totalCpuSeconds } from './support/proc-stats.ts';

const role = process.argv.find((a) => a.startsWith('--role='))?.slice('--role='.length);
const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? fallback);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PEERS = join(ROOT, 'bench', 'peers');
const PACED_GAS = [10, 60, 10, 60, 10, 10];
/** The Node options the systemd unit runs the agent with (BENCH_EDGE_NODE_OPTIONS overrides them, for experiments). */
const DEPLOYED_NODE_OPTIONS = /^Environment="?NODE_OPTIONS=([^"\n]*)"?$/m.exec(readFileSync(join(ROOT, 'deploy', 'edge', 'gridwatch-edge.service'), 'utf8'))?.[1] ?? '';
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SideResult {
  side: 'gridwatch' | 'node-red';
  commitP50Ms: number;
  commitP99Ms: number;
  pubackP50Ms: number;
  saturated: number;
  cpuS: number;
  wallS: number;
  msgsPerCpuS: number;
  lostMessages: number;
  lostChanges: number;
  /** VmHWM of the side's first process (the agent; Node-RED). */
  rssPeakMb: number;
  /** Sum over the side's processes (Node-RED + Mosquitto). */
  rssPeakAllMb: number;
}

/** Role "edge": the agent, as `gridwatch run` starts it, with sub-millisecond log timestamps. */
async function runEdge(configFile: string): Promise<void> {
  const logger = pino({ name: 'gridwatch-edge', level: 'info', base: { pid: process.pid }, timestamp: () => `,"time":${now().toFixed(3)}` });
  const agent = await startAgent(loadConfig(configFile), { logger });
  process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
  // Diagnosis: `kill -USR2 <pid>` prints where the memory is; with BENCH_PHASE_PROF=dir it also
  // starts, and the next one stops, a CPU profile (the bench sends both around the saturating phase).
  const profileDir = process.env.BENCH_PHASE_PROF;
  const session = profileDir ? new inspector.Session() : null;
  session?.connect();
  let profiling = false;
  process.on('SIGUSR2', () => {
    if (session) {
      if (!profiling) {
        session.post('Profiler.enable', () => session.post('Profiler.start'));
        session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as inspector.HeapProfiler.StartSamplingParameterType);
      } else {
        session.post('Profiler.stop', (err, r) => !err && writeFileSync(join(profileDir!, `phase-${process.pid}.cpuprofile`), JSON.stringify(r.profile)));
        session.post('HeapProfiler.stopSampling', (err, r) => !err && writeFileSync(join(profileDir!, `phase-${process.pid}.heapprofile`), JSON.stringify(r.profile)));
      }
      profiling = !profiling;
    }
    const m = process.memoryUsage();
    const mb = (n: number): number => Math.round(n / 1048576);
    console.error(JSON.stringify({ edgeMemoryMb: { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) } }));
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  console.error(`edge-vs-nodered: gave up waiting for ${what} after ${timeoutMs} ms`);
  return false;
}

class LoadChild {
  private readonly child: ChildProcess;
  private readonly waiting: Array<(m: Record<string, unknown>) => void> = [];

  constructor() {
    this.child = fork(process.argv[1]!, ['--role=load'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m) => this.waiting.shift()?.(m as Record<string, unknown>));
  }

  next<T>(): Promise<T> {
    return new Promise((resolve) => this.waiting.push((m) => resolve(m as T)));
  }

  send<T>(command: LoadCommand): Promise<T> {
    const answer = this.next<T>();
    this.child.send(command);
    return answer;
  }

  close(): void {
    this.child.send({ cmd: 'close' });
  }
}

async function startMosquitto(dir: string, name: string, extra = ''): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n${extra}`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const probe = async (): Promise<boolean> => {
    try {
      await (await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 })).endAsync();
      return true;
    } catch {
      return false;
    }
  };
  if (!(await until(`mosquitto ${name}`, probe, 10_000))) throw new Error(`mosquitto ${name} did not start`);
  return { port, proc };
}

/** The "cloud": acks GridWatch's events (as ingest would) and records what both sides published. */
class CloudSide {
  /** GridWatch: "device/seq" of the report that caused an event → the event's id. */
  readonly gwEvents = new Map<string, string>();
  /** Node-RED "device/seq" → commit time (after fdatasync). */
  readonly nrCommits = new Map<string, number>();
  private constructor(readonly client: MqttClient) {}

  static async start(port: number): Promise<CloudSide> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-cloud', reconnectPeriod: 0 });
    const cloud = new CloudSide(client);
    client.on('message', (topic, payload) => cloud.onMessage(topic, payload));
    await client.subscribeAsync(['gw/+/+/events', 'nodered/events'], { qos: 1 });
    return cloud;
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === 'nodered/events') {
      const m = JSON.parse(payload.toString()) as { committedAt: number; events: Array<{ deviceId: string; seq: number }> };
      for (const e of m.events) this.nrCommits.set(`${e.deviceId}/${e.seq}`, m.committedAt);
      return;
    }
    const m = decodeMessage('events', payload);
    if (!m.ok) return;
    for (const e of m.value.events) this.gwEvents.set(`${e.deviceId}/${String(e.readings?.seq)}`, e.id);
    const ackTopic = topic.replace(/\/events$/, '/ack');
    void this.client.publishAsync(ackTopic, encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), eventIds: m.value.events.map((e) => e.id) }), { qos: 1 });
  }
}

function latencies(sent: Record<string, number>, committedAt: (key: string) => number | undefined): number[] {
  const out: number[] = [];
  for (const [key, t] of Object.entries(sent)) {
    const c = committedAt(key);
    if (c !== undefined) out.push(c - t);
  }
  return out.sort((a, b) => a - b);
}

const deviceList = (n: number): LoadDevice[] =>
  Array.from({ length: n }, (_, i) => {
    const id = `gas-${String(i).padStart(4, '0')}`;
    return { id, username: id, password: `pw-${id}` };
  });

interface Side {
  name: SideResult['side'];
  /** Starts the side; returns the port devices connect to and the pids whose CPU counts (the first is the edge process). */
  start(): Promise<{ port: number; pids: number[] }>;
  /** Commit time of the alarm change caused by report "device/seq", once committed. */
  committedAt(key: string): number | undefined;
  /** Reports through the rule so far, or null where the generator's PUBACKs count them (GridWatch acknowledges after the commit). */
  processed(): Promise<number | null>;
  stop(): Promise<void>;
}

/** Saturating phase: reports through the rule, the CPU they took and the wall time. */
async function saturate(side: Side, load: LoadChild, pids: number[], count: number, window: number): Promise<{ phase: PhaseResult; n: number; cpuS: number; wallS: number }> {
  const before = await side.processed();
  const cpu0 = totalCpuSeconds(pids);
  const t0 = performance.now();
  if (process.env.BENCH_PHASE_PROF && !process.env.BENCH_PHASE_PROF_AT && side.name === 'gridwatch') process.kill(pids[0]!, 'SIGUSR2');
  const phase = await load.send<PhaseResult>({ cmd: 'saturate', count, window, highFrom: Math.floor(count / 2), highTo: Math.floor((3 * count) / 4) });
  let cpu1 = totalCpuSeconds(pids);
  let t1 = performance.now();
  if (process.env.BENCH_PHASE_PROF && !process.env.BENCH_PHASE_PROF_AT && side.name === 'gridwatch') process.kill(pids[0]!, 'SIGUSR2');
  if (before === null) return { phase, n: phase.acked, cpuS: cpu1 - cpu0, wallS: (t1 - t0) / 1000 };
  // Node-RED works on through Mosquitto's queue after the generator is done: wait until its count
  // stops moving; the CPU and the clock are taken at its last change.
  let processed = (await side.processed())!;
  let lastChange = performance.now();
  while (performance.now() - lastChange < 2000) {
    await sleep(100);
    const n = (await side.processed())!;
    if (n === processed) continue;
    processed = n;
    cpu1 = totalCpuSeconds(pids);
    t1 = lastChange = performance.now();
  }
  return { phase, n: processed - before, cpuS: cpu1 - cpu0, wallS: (t1 - t0) / 1000 };
}

async function runSide(side: Side, cloud: CloudSide, devices: LoadDevice[], count: number, window: number): Promise<SideResult> {
  // Report seqs and event ids start again every round: what an earlier round left must not match.
  cloud.gwEvents.clear();
  cloud.nrCommits.clear();
  const { port, pids } = await side.start();
  console.error(JSON.stringify({ side: side.name, when: 'started', rssMb: pids.map((pid) => Math.round(statusMb(pid, 'VmRSS'))) }));
  const load = new LoadChild();
  try {
    await load.next();
    const connected = await load.send<{ connected: number }>({ cmd: 'connect', port, devices });
    if (connected.connected !== devices.length) throw new Error(`${side.name}: ${connected.connected} of ${devices.length} devices connected`);
    const memory = (when: string): void => {
      console.error(JSON.stringify({ side: side.name, when, rssMb: pids.map((pid) => Math.round(statusMb(pid, 'VmRSS'))), hwmMb: pids.map((pid) => Math.round(statusMb(pid, 'VmHWM'))) }));
      if (process.env.BENCH_MEMORY_DETAIL && side.name === 'gridwatch') process.kill(pids[0]!, 'SIGUSR2');
    };
    memory('connected');
    const profilePaced = process.env.BENCH_PHASE_PROF_AT === 'paced' && side.name === 'gridwatch';
    if (profilePaced) process.kill(pids[0]!, 'SIGUSR2');
    const paced = await load.send<PhaseResult>({ cmd: 'paced', gas: PACED_GAS, periodMs: 1000 });
    if (profilePaced) process.kill(pids[0]!, 'SIGUSR2');
    memory('paced');
    await until(`${side.name} paced commits`, () => Object.keys(paced.sent).every((k) => side.committedAt(k) !== undefined), 10_000);
    const commit = latencies(paced.sent, (k) => side.committedAt(k));
    const sat = await saturate(side, load, pids, count, window);
    await until(`${side.name} saturation commits`, () => Object.keys(sat.phase.sent).every((k) => side.committedAt(k) !== undefined), 10_000);
    memory('saturated');
    const rssPeakMb = statusMb(pids[0]!, 'VmHWM');
    const changes = [...Object.keys(paced.sent), ...Object.keys(sat.phase.sent)];
    const published = paced.published + sat.phase.published;
    const processed = (await side.processed()) ?? paced.acked + sat.phase.acked;
    return {
      side: side.name,
      commitP50Ms: percentile(commit, 50),
      commitP99Ms: percentile(commit, 99),
      pubackP50Ms: percentile(paced.ackMs, 50),
      saturated: sat.n,
      cpuS: sat.cpuS,
      wallS: sat.wallS,
      msgsPerCpuS: sat.n / sat.cpuS,
      lostMessages: published - processed,
      lostChanges: changes.filter((k) => side.committedAt(k) === undefined).length,
      rssPeakMb,
      rssPeakAllMb: pids.reduce((sum, pid) => sum + statusMb(pid, 'VmHWM'), 0),
    };
  } finally {
    load.close();
    await side.stop();
  }
}

async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function edgeConfig(dir: string, round: number, cloudPort: number, devices: LoadDevice[]): string {
  const file = join(dir, `edge-${round}.yaml`);
  writeFileSync(
    file,
    stringify({
      version: 1,
      // A gateway id per round: the cloud broker keeps each persistent session apart.
      gateway: { id: `gw-bench-${round}`, site: 'bench' },
      dataDir: join(dir, `gw-${round}`),
      profilesDir: join(PEERS, 'profiles'),
      logLevel: 'info',
      cloud: { url: `mqtt://127.0.0.1:${cloudPort}`, password: 'pw' },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      outbox: { telemetry: false },
      devices: devices.map((d) => ({ id: d.id, profile: 'bench/gas-mqtt', mqtt: { username: d.username, password: d.password } })),
    }),
  );
  return file;
}

function gridwatchSide(dir: string, round: number, cloud: CloudSide, cloudPort: number, devices: LoadDevice[]): Side {
  const commits = new Map<string, number>();
  let child: ChildProcess | null = null;
  return {
    name: 'gridwatch',
    async start() {
      const file = edgeConfig(dir, round, cloudPort, devices);
      const edge = spawn(process.execPath, [...(process.env.BENCH_EDGE_NODE_OPTIONS ?? DEPLOYED_NODE_OPTIONS).split(' ').filter(Boolean), ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), process.argv[1]!, '--role=edge', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      child = edge;
      let port = 0;
      let subscribed = false;
      createInterface({ input: edge.stdout! }).on('line', (text) => {
        if (!text.startsWith('{')) return;
        const line = JSON.parse(text) as { msg?: string; time: number; eventId?: string; localMqttPort?: number };
        if (line.msg === 'event durable' && line.eventId) commits.set(line.eventId, line.time);
        else if (line.msg === 'edge ready') port = line.localMqttPort ?? 0;
        else if (line.msg === 'uplink subscribed') subscribed = true;
      });
      const ready = (): boolean => {
        if (edge.exitCode !== null) throw new Error(`the agent exited with ${edge.exitCode}`);
        return port > 0 && subscribed;
      };
      if (!(await until('the agent and its uplink', ready, 30_000))) throw new Error('the agent did not start');
      return { port, pids: [edge.pid!] };
    },
    committedAt(key) {
      const id = cloud.gwEvents.get(key);
      return id === undefined ? undefined : commits.get(id);
    },
    processed: async () => null,
    stop: () => stopChild(child),
  };
}

function nodeRedSide(dir: string, round: number, cloud: CloudSide, cloudPort: number, queue: string): Side {
  const userDir = mkdtempSync(join(dir, `nr-${round}-`));
  const appendFile = join(userDir, 'alarms.jsonl');
  let mosquitto: ChildProcess | null = null;
  let red: ChildProcess | null = null;
  let httpPort = 0;
  let probes = 0;
  const count = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${httpPort}/bench/count`)).json()) as { processed: number }).processed;
  return {
    name: 'node-red',
    async start() {
      // Unlimited queue by default: with Mosquitto's default (1,000 QoS 1 messages per client)
      // Node-RED loses most of a saturating load and the throughput figure would charge it for
      // messages it never processed; `nrQueue=default` runs the packaged default instead.
      const local = await startMosquitto(dir, `mosquitto-nr-${round}`, queue === 'default' ? '' : 'max_queued_messages 0\n');
      mosquitto = local.proc;
      httpPort = await freePort();
      const flowFile = join(userDir, 'flow.json');
      copyFileSync(join(PEERS, 'node-red', 'flow.json'), flowFile);
      red = spawn(process.execPath, [join(ROOT, 'node_modules', 'node-red', 'red.js'), '--settings', join(PEERS, 'node-red', 'settings.cjs'), '--userDir', userDir, flowFile], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, NR_HTTP_PORT: String(httpPort), NR_LOCAL_PORT: String(local.port), NR_CLOUD_PORT: String(cloudPort), NR_APPEND_FILE: appendFile },
      });
      const up = await until('Node-RED', () => count().then(() => true, () => false), 60_000);
      if (!up) throw new Error('Node-RED did not start');
      // Its MQTT-in subscribes asynchronously: probe until a report goes through the flow.
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${local.port}`, { clientId: 'probe', reconnectPeriod: 0 });
      const seen = await until('the flow to see a probe report', async () => {
        await probe.publishAsync('dev/probe/up', '{"seq":0}', { qos: 1 });
        probes = await count();
        return probes > 0;
      }, 30_000);
      if (!seen) throw new Error('Node-RED does not process reports (see its log above)');
      await sleep(300);
      probes = await count();
      await probe.endAsync();
      return { port: local.port, pids: [red.pid!, mosquitto.pid!] };
    },
    committedAt: (key) => cloud.nrCommits.get(key),
    processed: async () => (await count()) - probes,
    async stop() {
      await stopChild(red);
      await stopChild(mosquitto);
    },
  };
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const devices = deviceList(arg('devices', 500));
  const rounds = arg('rounds', 2);
  const count = arg('count', 200);
  const window = arg('window', 4);
  /** `only=gridwatch` or `only=node-red`: one side (diagnosis; no ratio). */
  const only = process.argv.find((a) => a.startsWith('only='))?.split('=')[1];
  const nrQueue = process.argv.find((a) => a.startsWith('nrQueue='))?.split('=')[1] ?? 'unlimited';
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-nodered-'));
  const cloudBroker = await startMosquitto(dir, 'mosquitto-cloud');
  const cloud = await CloudSide.start(cloudBroker.port);
  const results: SideResult[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['gridwatch', 'node-red'] : ['node-red', 'gridwatch'];
      for (const name of order) {
        if (only && name !== only) continue;
        const side = name === 'gridwatch' ? gridwatchSide(dir, round, cloud, cloudBroker.port, devices) : nodeRedSide(dir, round, cloud, cloudBroker.port, nrQueue);
        const result = await runSide(side, cloud, devices, count, window);
        console.error(JSON.stringify({ round, ...result }));
        results.push(result);
      }
    }
  } finally {
    await cloud.client.endAsync();
    await stopChild(cloudBroker.proc);
    rmSync(dir, { recursive: true, force: true });
  }
  const of = (side: SideResult['side'], pick: (r: SideResult) => number): number => median(results.filter((r) => r.side === side).map(pick));
  const gwRate = of('gridwatch', (r) => r.msgsPerCpuS);
  const nrRate = of('node-red', (r) => r.msgsPerCpuS);
  report('edge-vs-nodered', [
    { metric: 'nodered_device_to_commit_p50_ms', value: of('node-red', (r) => r.commitP50Ms), unit: 'ms' },
    { metric: 'nodered_msgs_per_cpu_s', value: nrRate, unit: 'msg/CPU-s (Node-RED + Mosquitto)' },
    { metric: 'nodered_lost', value: of('node-red', (r) => r.lostMessages + r.lostChanges), unit: 'reports + alarm changes' },
    { metric: 'nodered_rss_peak_mb', value: of('node-red', (r) => r.rssPeakMb), unit: 'MB (Node-RED process)' },
    { metric: 'gridwatch_msgs_per_cpu_s', value: gwRate, unit: 'msg/CPU-s (agent process)' },
  ]);
  reportWithTargets('edge-vs-nodered', [
    atMost('device_to_commit_p50_ms', of('gridwatch', (r) => r.commitP50Ms), 'ms', 5),
    { ...atLeast('msgs_per_cpu_s_ratio', nrRate > 0 ? gwRate / nrRate : Number.NaN, 'GridWatch / Node-RED+Mosquitto', 1.5), measured: false },
    atMost('lost', Math.max(...results.filter((r) => r.side === 'gridwatch').map((r) => r.lostMessages + r.lostChanges)), 'reports + alarm changes (worst round)', 0),
    atMost('rss_peak_mb', Math.max(...results.filter((r) => r.side === 'gridwatch').map((r) => r.rssPeakMb)), 'MB (agent VmHWM, worst round)', 128),
  ]);
}

if (role === 'load') runDeviceLoad();
else if (role === 'edge') await runEdge(process.argv[process.argv.length - 1]!);
else await main();
