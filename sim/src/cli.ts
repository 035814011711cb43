// gridwatch-sim: run simulated devices against an edge agent's local broker, and trigger them.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { SmokeDetectorSim } from './smoke-detector.ts';
import { CONTROL_ACTIONS, SimControlServer, isControlAction } from './control.ts';

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

program
  .command('trigger')
  .description('tell a running simulator to change a device\'s state')
  .argument('<device>', 'device id, e.g. smoke-1')
  .argument('[action]', `one of ${CONTROL_ACTIONS.join(', ')}`, 'alarm')
  .option('--control <url>', 'control URL printed by `gridwatch-sim run` (default: the running demo\'s)')
  .action(async (device: string, action: string, opts: { control?: string }) => {
    if (!isControlAction(action)) {
      fail(`unknown action "${action}": use one of ${CONTROL_ACTIONS.join(', ')}`, { exitCode: 2 });
    }
    const control = opts.control ?? defaultControlUrl();
    if (!control) {
      fail('no simulator control URL: start `npm run demo` first, or pass --control <url>', { exitCode: 2 });
    }
    let response: Response;
    try {
      response = await fetch(`${control}/devices/${encodeURIComponent(device)}/${action}`, { method: 'POST' });
    } catch (err) {
      fail(`cannot reach the simulator at ${control} (${(err as Error).message}): is the demo still running?`, { exitCode: 3 });
    }
    const body = (await response.json()) as { error?: string };
    if (!response.ok) fail(body.error ?? `simulator answered ${response.status}`, { exitCode: 1 });
    console.log(`${device}: ${action} sent`);
  });

await program.parseAsync(process.argv);
