// gridwatch-sim: run simulated devices against an edge agent's local broker, and trigger them.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadProfiles, type ModbusProfile, type SerialProfile } from '@gridwatch/firmware-profiles';
import { SmokeDetectorSim } from './smoke-detector.ts';
import { ModbusDeviceSim, SCENARIOS, type Scenario } from './modbus/device.ts';
import { ModbusTcpSim } from './modbus/tcp-server.ts';
import { RtuLineSim } from './modbus/rtu-line.ts';
import { PtyPair } from './pty.ts';
import { SerialDeviceSim, SERIAL_SCENARIOS, type SerialScenario } from './serial/device.ts';
import { CONTROL_ACTIONS, SimControlServer } from './control.ts';

/** Where `npm run demo` records the simulator's control URL, so `trigger` works without flags. */
export const DEMO_RUNTIME_FILE = join(import.meta.dirname, '..', '..', 'data', 'demo', 'runtime.json');

interface DeviceSpec {
  id: string;
  username: string;
  password: string;
}

function parseDevice(value: string, previous: DeviceSpec[] = []): DeviceSpec[] {
  const [id, username, password] = value.split(':');
  if (!id || !username || !password) {
    throw new InvalidArgumentError(`expected id:username:password, got "${value}"`);
  }
  return [...previous, { id, username, password }];
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

function defaultControlUrl(): string | undefined {
  if (process.env.GRIDWATCH_SIM_CONTROL) return process.env.GRIDWATCH_SIM_CONTROL;
  if (!existsSync(DEMO_RUNTIME_FILE)) return undefined;
  const runtime = JSON.parse(readFileSync(DEMO_RUNTIME_FILE, 'utf8')) as { simControlUrl?: string };
  return runtime.simControlUrl;
}

/** Prints what went wrong and what to do next, then exits with the documented code. */
function fail(message: string, options: { exitCode: number }): never {
  console.error(`gridwatch-sim: ${message}`);
  process.exit(options.exitCode);
}

const program = new Command('gridwatch-sim')
  .description('Simulated GridWatch devices that speak the real wire protocol');

program
  .command('run')
  .description('connect simulated smoke detectors to an edge agent\'s local MQTT broker and serve a control API')
  .requiredOption('--broker <url>', 'edge local broker, e.g. mqtt://127.0.0.1:1884')
  .requiredOption('--device <id:username:password>', 'a detector to simulate (repeatable)', parseDevice)
  .option('--heartbeat-ms <ms>', 'state report period', parseInteger, 30_000)
  .option('--control-port <port>', 'HTTP control port (0 = any free port)', parseInteger, 0)
  .action(async (opts: { broker: string; device: DeviceSpec[]; heartbeatMs: number; controlPort: number }) => {
    const devices = opts.device.map(
      (d) => new SmokeDetectorSim({ brokerUrl: opts.broker, deviceId: d.id, username: d.username, password: d.password, heartbeatMs: opts.heartbeatMs }),
    );
    for (const device of devices) await device.start();
    const control = new SimControlServer(devices, '127.0.0.1', opts.controlPort);
    await control.start();
    console.log(JSON.stringify({ msg: 'sim ready', controlUrl: control.url, devices: devices.map((d) => d.deviceId) }));
    const shutdown = async () => {
      await control.stop();
      await Promise.all(devices.map((d) => d.stop()));
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

function controlUrlOrFail(explicit: string | undefined): string {
  const control = explicit ?? defaultControlUrl();
  if (!control) fail('no simulator control URL: start `npm run demo` first, or pass --control <url>', { exitCode: 2 });
  return control;
}

/** One action on one device of a running simulator (`run` or the demo); the server names valid actions. */
async function postAction(control: string, device: string, action: string, params: { point?: string; value?: string } = {}): Promise<void> {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  let response: Response;
  try {
    response = await fetch(`${control}/devices/${encodeURIComponent(device)}/${action}${query.size > 0 ? `?${query}` : ''}`, { method: 'POST' });
  } catch (err) {
    fail(`cannot reach the simulator at ${control} (${(err as Error).message}): is the demo still running?`, { exitCode: 3 });
  }
  const body = (await response.json()) as { error?: string };
  if (!response.ok) fail(body.error ?? `simulator answered ${response.status}`, { exitCode: 1 });
}

program
  .command('trigger')
  .description('tell a running simulator to change a device\'s state')
  .argument('<device>', 'device id, e.g. smoke-1')
  .argument('[action]', `e.g. ${CONTROL_ACTIONS.join(', ')}; the demo also knows sos, silent, back, set (GET <control>/devices lists each device's)`, 'alarm')
  .option('--point <name>', 'with set: the point, e.g. gas_concentration')
  .option('--value <value>', 'with set: the value in engineering units, e.g. 30')
  .option('--control <url>', 'control URL printed by `gridwatch-sim run` (default: the running demo\'s)')
  .action(async (device: string, action: string, opts: { control?: string; point?: string; value?: string }) => {
    if (!/^[a-z][a-z-]{0,31}$/.test(action)) fail(`action: "${action}" is not an action name (e.g. ${CONTROL_ACTIONS.join(', ')})`, { exitCode: 2 });
    await postAction(controlUrlOrFail(opts.control), device, action, { point: opts.point, value: opts.value });
    console.log(`${device}: ${action} sent`);
  });

interface ScenarioStep {
  atMs: number;
  device: string;
  action: string;
  point?: string;
  value?: string;
  note: string;
}

async function demoScenarios(control: string): Promise<Record<string, { title: string; steps: ScenarioStep[] }>> {
  try {
    const body = (await (await fetch(`${control}/scenarios`)).json()) as { scenarios?: Record<string, { title: string; steps: ScenarioStep[] }> };
    if (!body.scenarios) fail(`${control} has no scenarios: scenarios need \`npm run demo\`, not \`gridwatch-sim run\``, { exitCode: 2 });
    return body.scenarios;
  } catch (err) {
    fail(`cannot reach the demo at ${control} (${(err as Error).message}): is it still running?`, { exitCode: 3 });
  }
}

program
  .command('scenario')
  .description('play a short scripted situation on the running demo (without a name: list them)')
  .argument('[name]', 'e.g. correlated-fire, gas-leak, watch-sos, silent-detector, test-round')
  .option('--control <url>', 'control URL of the demo (default: the running demo\'s)')
  .action(async (name: string | undefined, opts: { control?: string }) => {
    const control = controlUrlOrFail(opts.control);
    const scenarios = await demoScenarios(control);
    const scenario = name === undefined ? undefined : scenarios[name];
    if (!scenario) {
      if (name !== undefined) console.error(`gridwatch-sim: unknown scenario "${name}"`);
      for (const [n, s] of Object.entries(scenarios)) console.log(`  ${n.padEnd(16)} ${s.title}`);
      if (name !== undefined) process.exit(2);
      return;
    }
    console.log(scenario.title);
    const start = Date.now();
    for (const step of scenario.steps) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + step.atMs - Date.now())));
      await postAction(control, step.device, step.action, { point: step.point, value: step.value });
      const what = step.action === 'set' ? `${step.point}=${step.value}` : step.action;
      console.log(`  +${((Date.now() - start) / 1000).toFixed(1)} s  ${step.device}: ${what}${step.note ? `  ${step.note}` : ''}`);
    }
  });

interface UnitSpec {
  unitId: number;
  profile: string;
  scenario: Scenario;
}

function parseUnit(value: string, previous: UnitSpec[] = []): UnitSpec[] {
  const [unit, profile, scenario = 'normal'] = value.split(':');
  const unitId = Number(unit);
  if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247 || !profile) throw new InvalidArgumentError(`expected unitId:profile[:scenario], got "${value}"`);
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new InvalidArgumentError(`unknown scenario ${scenario}; use one of ${SCENARIOS.join(', ')}`);
  return [...previous, { unitId, profile, scenario: scenario as Scenario }];
}

function modbusProfile(id: string): ModbusProfile {
  const loaded = loadProfiles().profiles.get(id);
  if (!loaded || loaded.profile.transport !== 'modbus') fail(`${id} is not a Modbus profile`, { exitCode: 2 });
  return loaded.profile;
}

function devicesFor(units: UnitSpec[]): ModbusDeviceSim[] {
  return units.map((u) => {
    const device = new ModbusDeviceSim({ unitId: u.unitId, profile: modbusProfile(u.profile) });
    device.setScenario(u.scenario);
    return device;
  });
}

function untilSignal(stop: () => Promise<void>): void {
  const shutdown = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

program
  .command('modbus-tcp')
  .description('serve simulated Modbus devices over Modbus TCP (one server per --servers, each with every --unit)')
  .requiredOption('--unit <unitId:profile[:scenario]>', `a device, e.g. 3:generic/gas-lel-modbus:alarm; scenarios: ${SCENARIOS.join(', ')} (repeatable)`, parseUnit)
  .option('--port <port>', 'first TCP port (0 = ephemeral)', parseInteger, 0)
  .option('--servers <n>', 'how many servers (ports) to start', parseInteger, 1)
  .action(async (opts: { unit: UnitSpec[]; port: number; servers: number }) => {
    const servers = Array.from({ length: Math.max(1, opts.servers) }, (_, i) => new ModbusTcpSim({ port: opts.port === 0 ? 0 : opts.port + i, devices: devicesFor(opts.unit) }));
    for (const server of servers) await server.start();
    console.log(JSON.stringify({ msg: 'sim ready', host: '127.0.0.1', ports: servers.map((s) => s.port), units: opts.unit.map((u) => u.unitId) }));
    untilSignal(async () => {
      for (const server of servers) await server.stop();
    });
  });

program
  .command('modbus-rtu')
  .description('serve simulated Modbus RTU slaves on a serial line; without --path, on a new socat pty pair whose other end is printed')
  .requiredOption('--unit <unitId:profile[:scenario]>', 'a slave (repeatable)', parseUnit)
  .option('--path <tty>', 'serial device or pty end to serve on')
  .option('--baud <rate>', 'baud rate', parseInteger, 9600)
  .option('--turnaround-ms <ms>', 'slave turnaround', parseInteger, 5)
  .action(async (opts: { unit: UnitSpec[]; path?: string; baud: number; turnaroundMs: number }) => {
    const pty = opts.path === undefined ? new PtyPair() : null;
    await pty?.start();
    const line = new RtuLineSim({ path: opts.path ?? pty!.b, baudRate: opts.baud, turnaroundMs: opts.turnaroundMs, devices: devicesFor(opts.unit) });
    await line.start();
    console.log(JSON.stringify({ msg: 'sim ready', masterPath: pty?.a ?? null, path: opts.path ?? pty!.b, baudRate: opts.baud, units: opts.unit.map((u) => u.unitId) }));
    untilSignal(async () => {
      await line.stop();
      await pty?.stop();
    });
  });

program
  .command('serial')
  .description('push framed reports of a serial profile (e.g. generic/door-access-serial) on a serial line or a new pty pair')
  .requiredOption('--profile <id>', 'serial profile id')
  .option('--path <tty>', 'serial device or pty end to write to')
  .option('--scenario <name>', `one of ${SERIAL_SCENARIOS.join(', ')}`, 'normal')
  .option('--every-ms <ms>', 'report period', parseInteger, 1000)
  .option('--template <hex>', 'bytes the profile does not describe, e.g. "02 01 45"')
  .action(async (opts: { profile: string; path?: string; scenario: string; everyMs: number; template?: string }) => {
    const loaded = loadProfiles().profiles.get(opts.profile);
    if (!loaded || loaded.profile.transport !== 'serial') fail(`${opts.profile} is not a serial profile`, { exitCode: 2 });
    if (!(SERIAL_SCENARIOS as readonly string[]).includes(opts.scenario)) fail(`unknown scenario ${opts.scenario}`, { exitCode: 2 });
    const pty = opts.path === undefined ? new PtyPair() : null;
    await pty?.start();
    const device = new SerialDeviceSim({
      path: opts.path ?? pty!.b,
      profile: loaded.profile as SerialProfile,
      everyMs: opts.everyMs,
      ...(opts.template === undefined ? {} : { template: opts.template }),
    });
    await device.start();
    device.setScenario(opts.scenario as SerialScenario);
    console.log(JSON.stringify({ msg: 'sim ready', gatewayPath: pty?.a ?? null, profile: opts.profile }));
    untilSignal(async () => {
      await device.stop();
      await pty?.stop();
    });
  });

await program.parseAsync(process.argv);
