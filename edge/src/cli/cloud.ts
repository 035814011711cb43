// The cloud as the installer commands reach it: a session for the installer account, and the
// commissioning round trip (the device's test report, as the cloud recorded and routed it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoundDevice } from '../config/index.ts';
import { loadVectorsFile } from '@gridwatch/firmware-profiles';
import { getTransport } from '../drivers/registry.ts';
import type { ConfigFile } from './config-file.ts';
import { CliError, EXIT } from './output.ts';
import type { TestResult } from './records.ts';

export interface CloudFlags {
  cloudUrl?: string;
  user?: string;
  password?: string;
  token?: string;
}

interface CloudSession {
  url: string;
  headers: Record<string, string>;
}

export async function cloudSession(f: CloudFlags): Promise<CloudSession> {
  const url = f.cloudUrl ?? process.env.GRIDWATCH_CLOUD_URL;
  if (!url) throw new CliError('no cloud URL', EXIT.usage, 'pass --cloud-url https://… (or set GRIDWATCH_CLOUD_URL)');
  const token = f.token ?? process.env.GRIDWATCH_CLOUD_TOKEN;
  if (token) return { url, headers: { authorization: `Bearer ${token}` } };
  const user = f.user ?? process.env.GRIDWATCH_CLOUD_USER;
  const password = f.password ?? process.env.GRIDWATCH_CLOUD_PASSWORD;
  if (!user || !password) return { url, headers: {} };
  let res: Response;
  try {
    res = await fetch(new URL('/api/v1/auth/login', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  } catch (err) {
    throw new CliError(`cannot reach the cloud at ${url} (${(err as Error).message})`, EXIT.unreachable, 'check --cloud-url and the gateway’s network');
  }
  if (res.status === 401) throw new CliError(`the cloud refused the login of ${user}`, EXIT.usage, 'check --user/--password (an installer account: gridwatch-cloud user add --role installer)');
  if (!res.ok) throw new CliError(`cloud login answered ${res.status}`, EXIT.unreachable, `try again; check the cloud health at ${new URL('/healthz', url).href}`);
  const body = (await res.json()) as { token: string };
  return { url, headers: { authorization: `Bearer ${body.token}` } };
}

interface TestEventView {
  eventId: string;
  uplinkMs: number;
  community: string | null;
  grid: string | null;
  routedTo: { tier: string; unit: { id: string; name: string; tier: string } | null } | null;
}

interface Runtime {
  localMqttPort: number;
  httpPort: number;
}

function agentRuntime(cf: ConfigFile): Runtime {
  const file = join(cf.config.dataDir, 'runtime.json');
  if (!existsSync(file)) throw new CliError('the agent is not running (no runtime.json)', EXIT.unreachable, 'start it: systemctl start gridwatch-edge.service');
  return JSON.parse(readFileSync(file, 'utf8')) as Runtime;
}

/** The device's test press played from its profile's vectors, through its transport. */
async function pressSimulatedTest(cf: ConfigFile, bound: BoundDevice): Promise<() => Promise<void>> {
  const simulate = getTransport(bound.profile.transport)?.cli.simulateTest;
  const vectorsFile = cf.profiles.vectorFiles.map((f) => ({ f, v: loadVectorsFile(f) })).find(({ v }) => v.profile === bound.profile.id);
  if (!simulate || !vectorsFile) throw new CliError(`--simulate cannot drive ${bound.device.id} (${bound.profile.id}: no simulated test for this transport or profile)`, EXIT.usage, 'press the device’s test button instead (run without --simulate)');
  const runtime = agentRuntime(cf);
  const host = cf.config.local.host === '0.0.0.0' ? '127.0.0.1' : cf.config.local.host;
  return simulate(bound, { host, localPort: runtime.localMqttPort }, vectorsFile.v);
}

function resultOf(seen: TestEventView, since: number): TestResult {
  const unit = seen.routedTo?.unit ?? null;
  return {
    at: Date.now(),
    passed: unit !== null,
    roundTripMs: Date.now() - since,
    uplinkMs: seen.uplinkMs,
    eventId: seen.eventId,
    community: seen.community,
    grid: seen.grid,
    unit: unit ? { id: unit.id, name: unit.name, tier: unit.tier } : null,
    ...(unit ? {} : { error: 'reached the cloud but no unit would receive an alarm from this address' }),
  };
}

async function testEvents(query: URL, session: CloudSession): Promise<TestEventView[]> {
  let res: Response;
  try {
    res = await fetch(query, { headers: session.headers });
  } catch (err) {
    throw new CliError(`cannot reach the cloud (${(err as Error).message})`, EXIT.unreachable, 'check --cloud-url and the network');
  }
  if (res.status === 401) throw new CliError('the cloud wants a login', EXIT.usage, 'pass --user/--password of an installer account, or --token');
  if (!res.ok) throw new CliError(`cloud answered ${res.status}`, EXIT.unreachable, `check the cloud health at ${new URL('/healthz', session.url).href}`);
  return ((await res.json()) as { testEvents: TestEventView[] }).testEvents;
}

/** Waits for the cloud to record the device's test report; `simulate` plays the press itself. */
export async function commissionTest(cf: ConfigFile, bound: BoundDevice, opts: CloudFlags & { simulate?: boolean }, timeoutMs: number): Promise<TestResult> {
  const session = await cloudSession(opts);
  const since = Date.now();
  const release = opts.simulate ? await pressSimulatedTest(cf, bound) : null;
  if (!opts.simulate) process.stderr.write(`Press the test button of ${bound.device.id} now; waiting up to ${timeoutMs / 1000} s for the cloud…\n`);
  const query = new URL('/api/v1/test-events', session.url);
  query.searchParams.set('gatewayId', cf.config.gateway.id);
  query.searchParams.set('deviceId', bound.device.id);
  query.searchParams.set('since', String(since - 1000));
  try {
    for (;;) {
      const seen = (await testEvents(query, session))[0];
      if (seen) return resultOf(seen, since);
      if (Date.now() - since > timeoutMs) {
        const health = existsSync(join(cf.config.dataDir, 'runtime.json')) ? `curl http://127.0.0.1:${agentRuntime(cf).httpPort}/healthz` : 'systemctl status gridwatch-edge.service';
        throw new CliError(`the cloud did not record a test report from ${bound.device.id} within ${timeoutMs / 1000} s`, EXIT.timeout, `check the agent is running and online (${health}), the device wiring, and press the test button again`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await release?.();
  }
}
