// The whole edge agent polling 500 simulated Modbus TCP devices (generic/smoke-modbus, one server
// each, in a child process so the figures are the agent's own): driver → decode → rules → SQLite
// outbox. Prints readings decoded per second per core of CPU the agent used, and its RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { resolveConfig, startAgent } from '@gridwatch/edge';
import { report } from './report.ts';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 500);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

const cli = new URL('../sim/src/cli.ts', import.meta.url).pathname;
const sim = spawn(process.execPath, ['--import', 'tsx', cli, 'modbus-tcp', '--unit', '1:generic/smoke-modbus', '--servers', String(DEVICES)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ports = await new Promise<number[]>((resolve, reject) => {
  sim.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
  createInterface({ input: sim.stdout }).on('line', (line) => {
    if (line.includes('"sim ready"')) resolve((JSON.parse(line) as { ports: number[] }).ports);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
const config = resolveConfig(
  {
    version: 1,
    gateway: { id: 'gw-bench', site: 'bench' },
    dataDir: join(dir, 'data'),
    logLevel: 'warn',
    // No cloud: the agent keeps deciding locally, which is the work measured here.
    cloud: { url: 'mqtt://127.0.0.1:1', password: 'x', reconnectPeriodMs: 600000 },
    local: { mqttPort: 0, httpPort: 0 },
    buses: ports.map((port, i) => ({ id: `tcp${i}`, kind: 'tcp', host: '127.0.0.1', port })),
    devices: ports.map((_, i) => ({ id: `smoke-${i}`, profile: 'generic/smoke-modbus', modbus: { bus: `tcp${i}`, unitId: 1, pollIntervalMs: POLL_MS } })),
  },
  'bench',
  dir,
);
const agent = await startAgent(config);
const readings = async (): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^gridwatch_edge_readings_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
  return sum;
};

await new Promise((r) => setTimeout(r, 3000));
const r0 = await readings();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const r1 = await readings();
const cpu = process.cpuUsage(cpu0);
const seconds = (performance.now() - t0) / 1000;
const rss = process.memoryUsage().rss / 2 ** 20;
await agent.stop();
sim.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const count = r1 - r0;
console.log(`${count} readings from ${DEVICES} devices in ${seconds.toFixed(1)} s using ${cpuSeconds.toFixed(2)} CPU-s (${((100 * cpuSeconds) / seconds).toFixed(0)} % of a core)`);
report('edge-decode', [
  { metric: 'readings_per_s', value: count / seconds, unit: 'readings/s' },
  { metric: 'readings_per_s_per_core', value: count / cpuSeconds, unit: 'readings/s/core' },
  { metric: 'rss_mb', value: rss, unit: 'MB' },
]);
process.exit(0);
