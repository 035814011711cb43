// A district-wide event (issue 12): 5,000 alarms from 50 gateways at once, over real MQTT (the
// embedded broker) into real PostgreSQL (a fresh database). The publishers run in a child process
// (support/alarm-burst.ts) and the socket.io client in another (support/socket-watch.ts), so the
// cloud's event loop and CPU are measured alone. Every event must be
// committed exactly once — counted in PostgreSQL, not taken from the cloud's own metrics — and every
// incident must reach a socket.io client. Figures (all measured):
//   incidents_per_s          alarms / (last incident on the socket − first publish)
//   publish_to_socket_p99_ms per alarm: publish (child's clock) → its incident on the socket
//   publish_to_socket_p50_ms the same, median
//   cloud_cpu_ms_per_incident  CPU time of this process (the cloud alone)
//                              from "go" to the last incident, per incident
//   pg_cpu_ms_per_incident     CPU time of the database's backends (from /proc) over the same span
//   incidents_per_cpu_s        computed: 1000 / (cloud + pg CPU per incident), the rate if both had
//                              the CPU to themselves; on a loaded machine the wall-clock rate is
//                              bounded by the CPU share the scheduler gives these processes
// Args: [gateways=50] [alarmsPerGateway=100]. Needs PostgreSQL (GRIDWATCH_TEST_PG_URL).
// BENCH_SET_APPLY=off runs the per-event apply instead of the set-based one (incidents/apply-set.ts).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { startCloud } from '@gridwatch/cloud';
import { SET_APPLY, SET_APPLY_STATS } from '../cloud/src/incidents/apply-set.ts';
import { createTempDatabase, eventually } from '../cloud/test/helpers.ts';
import { percentile } from './report.ts';
import { atLeast, atMost, reportWithTargets } from './support/figures.ts';

const gatewayCount = Number(process.argv[2] ?? 50);
const perGateway = Number(process.argv[3] ?? 100);
const total = gatewayCount * perGateway;

// BENCH_SET_APPLY=off: the per-event path, for paired before/after runs on the same tree.
if (process.env.BENCH_SET_APPLY === 'off') SET_APPLY.enabled = false;
const db = await createTempDatabase();
const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
const child = { proc: null as ReturnType<typeof spawn> | null, watch: null as ReturnType<typeof spawn> | null };

/** A bench child running one of support/*.ts with its JSON lines collected. */
function startChild(script: string, args: unknown): { proc: ReturnType<typeof spawn>; lines: Record<string, unknown>[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { proc, lines };
}

/** utime + stime of the processes, in ms (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The backend is gone; its time is lost to the figure (the pool keeps its connections while busy).
    }
  }
  return ticks * 10;
}

async function backendPids(client: pg.Client): Promise<number[]> {
  const rows = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.rows.map((r) => r.pid);
}

try {
  const gateways = [];
  for (let g = 0; g < gatewayCount; g += 1) {
    const gw = { gatewayId: `gw-storm-${g}`, site: 'sz-storm', secret: `storm-secret-${g}-xx` };
    await cloud.gateways.addGateway(gw);
    gateways.push(gw);
  }
  const watch = startChild('./support/socket-watch.ts', { httpUrl: cloud.httpUrl, expected: total });
  child.watch = watch.proc;
  await eventually('socket.io client connected', () => (watch.lines.some((m) => m.ready) ? true : undefined), 60_000);
  console.error('socket.io client connected (child process)');

  const burst = startChild('./support/alarm-burst.ts', { mqttUrl: cloud.mqttUrl, gateways, perGateway });
  const proc = burst.proc;
  child.proc = proc;
  const messages = burst.lines;
  await eventually('publishers connected', () => (messages.some((m) => m.ready) ? true : undefined), 60_000);
  console.error(`${gatewayCount} gateways connected; publishing ${total} alarms`);
  const probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  const cpuBefore = process.cpuUsage();
  const pids = await backendPids(probe);
  const pgBefore = cpuMsOf(pids);
  proc.stdin!.write('go\n');

  // The pool opens its connections during the burst: count the backends seen while it runs.
  const sampler = setInterval(() => void backendPids(probe).then((seen) => seen.forEach((p) => pids.includes(p) || pids.push(p)), () => undefined), 200);
  await eventually('every incident on the socket', () => (watch.lines.some((m) => m.seen) ? true : undefined), 300_000).catch(() => watch.proc.stdin!.write('report\n'));
  clearInterval(sampler);
  const cloudCpu = process.cpuUsage(cpuBefore);
  const seenLine = await eventually('the socket watcher reported', () => watch.lines.find((m) => m.seen), 30_000);
  const onSocket = new Map(Object.entries(seenLine.seen as Record<string, number>));
  const pgCpuMs = cpuMsOf(pids) - pgBefore;
  await probe.end();
  const sentLine = await eventually('publishers reported', () => messages.find((m) => m.sent), 60_000);
  const sent = sentLine.sent as Record<string, number>;

  const check = new pg.Client({ connectionString: db.url });
  await check.connect();
  const [counts] = (
    await check.query<{ events: string; distinct_events: string; incidents: string; linked: string }>(
      `SELECT (SELECT count(*) FROM events WHERE gateway_id LIKE 'gw-storm-%') AS events,
              (SELECT count(DISTINCT event_id) FROM events WHERE gateway_id LIKE 'gw-storm-%') AS distinct_events,
              (SELECT count(*) FROM incidents) AS incidents,
              (SELECT count(DISTINCT incident_id) FROM events WHERE gateway_id LIKE 'gw-storm-%') AS linked`,
    )
  ).rows;
  await check.end();
  console.error(`postgres: ${counts!.events} events (${counts!.distinct_events} distinct), ${counts!.incidents} incidents, ${counts!.linked} linked; socket saw ${onSocket.size}/${total}`);
  if (Number(counts!.events) !== total || Number(counts!.distinct_events) !== total || Number(counts!.incidents) !== total) {
    throw new Error(`not committed exactly once: expected ${total} events and incidents`);
  }
  if (onSocket.size < total) throw new Error(`${total - onSocket.size} incidents never reached the socket`);

  const firstPublish = Math.min(...Object.values(sent));
  const lastOnSocket = Math.max(...onSocket.values());
  const latencies = Object.entries(sent)
    .map(([id, t]) => onSocket.get(id)! - t)
    .sort((a, b) => a - b);
  const incidentsPerS = total / ((lastOnSocket - firstPublish) / 1000);
  console.error(`storm: ${total} alarms in ${((lastOnSocket - firstPublish) / 1000).toFixed(2)} s; p50 ${percentile(latencies, 50)} ms, max ${latencies.at(-1)} ms`);
  const cloudCpuPer = (cloudCpu.user + cloudCpu.system) / 1000 / total;
  const pgCpuPer = pgCpuMs / total;
  console.error(`cpu per incident: cloud ${cloudCpuPer.toFixed(3)} ms, postgres ${pgCpuPer.toFixed(3)} ms (${pids.length} backends)`);
  // Events of groups of 2+ messages go through the set-based apply; a lone message is applied isolated.
  console.error(
    SET_APPLY.enabled
      ? `set apply: ${SET_APPLY_STATS.fast} of ${SET_APPLY_STATS.events} grouped events on the fast path; ${total - SET_APPLY_STATS.events} applied alone`
      : 'set apply: off (BENCH_SET_APPLY=off), every event applied one at a time',
  );
  reportWithTargets('alarm-storm', [
    atLeast('incidents_per_s', incidentsPerS, 'incidents/s', 2000),
    atMost('publish_to_socket_p99_ms', percentile(latencies, 99), 'ms', 3000),
    { ...atMost('publish_to_socket_p50_ms', percentile(latencies, 50), 'ms', Number.POSITIVE_INFINITY), target: 'none' },
    { ...atMost('cloud_cpu_ms_per_incident', cloudCpuPer, 'ms', Number.POSITIVE_INFINITY), target: 'none' },
    { ...atMost('pg_cpu_ms_per_incident', pgCpuPer, 'ms', Number.POSITIVE_INFINITY), target: 'none' },
    { ...atLeast('incidents_per_cpu_s', 1000 / (cloudCpuPer + pgCpuPer), 'incidents/cpu-s', Number.NEGATIVE_INFINITY), target: 'none', measured: false },
  ]);
} finally {
  child.proc?.kill('SIGTERM');
  child.watch?.kill('SIGTERM');
  await cloud.stop();
  await db.drop();
}
