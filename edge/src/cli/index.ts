// `gridwatch` — the installer CLI, shipped with the edge: devices in the config file (validated
// against the profiles), a Modbus line scan, live reads through the driver code, the
// commissioning round trip through the cloud, and the commissioning report.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import mqtt from 'mqtt';
import type { ModbusProfile } from '@gridwatch/firmware-profiles';
import { parse as parseYaml } from 'yaml';
import { ConfigError, resolveConfig, type Credentials, type DeviceConfig, type EdgeConfig } from '../config.ts';
import { endpointOf, ModbusIoError, ModbusSerialTransport, planReads } from '../drivers/modbus/index.ts';
import { decodeRegisters, type RegisterBlock } from '../profiles/decode.ts';
import { openConfig, saveDevices, type ConfigFile } from './config-file.ts';
import { parseCsv } from './csv.ts';
import { CliError, emit, EXIT, reportError, type OutputOptions } from './output.ts';

export { EXIT, CliError } from './output.ts';

const DEFAULT_CONFIG = process.env.GRIDWATCH_CONFIG ?? '/etc/gridwatch/edge.yaml';

interface Common extends OutputOptions {
  config: string;
}

function run<T extends Common>(action: (opts: T, ...args: string[]) => Promise<void> | void) {
  return async (...params: unknown[]): Promise<void> => {
    // commander passes positional arguments, then the options, then the command.
    const command = params[params.length - 1] as Command;
    const opts = command.optsWithGlobals<T>();
    const args = params.slice(0, -2) as string[];
    try {
      await action(opts, ...args);
    } catch (err) {
      process.exitCode = reportError(err, opts);
    }
  };
}

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

function deviceOf(cf: ConfigFile, id: string): DeviceConfig {
  const device = cf.config.devices.find((d) => d.id === id);
  if (!device) throw new CliError(`device ${id} is not in ${cf.file}`, EXIT.usage, `list the devices with: gridwatch device list -c ${cf.file}`);
  return device;
}

function describe(d: DeviceConfig): string {
  if (d.modbus) return `${d.modbus.bus} unit ${d.modbus.unitId}`;
  if (d.serial) return `serial ${d.serial.bus}`;
  if (d.mqtt) return `mqtt ${d.mqtt.username}`;
  return '—';
}

interface DeviceFlags {
  id?: string;
  profile?: string;
  addressId?: string;
  bus?: string;
  unitId?: string;
  pollMs?: string;
  mqttUsername?: string;
  mqttPassword?: string;
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CliError(`${name}: expected an integer, got "${value}"`, EXIT.usage, `pass a whole number to --${name}`);
  return n;
}

/** A device from flags or a CSV row; its transport block follows the profile's transport. */
function buildDevice(cf: ConfigFile, f: DeviceFlags, base?: DeviceConfig): DeviceConfig {
  const id = f.id ?? base?.id;
  const profileId = f.profile ?? base?.profile;
  if (!id || !profileId) throw new CliError('id and profile are required', EXIT.usage, 'pass --id <device id> --profile <profile id> (gridwatch device add --help)');
  const loaded = cf.profiles.profiles.get(profileId);
  if (!loaded) throw new CliError(`unknown profile ${profileId}`, EXIT.usage, `use one of: ${[...cf.profiles.profiles.keys()].join(', ')}`);
  const device: DeviceConfig = { id, profile: profileId };
  const addressId = f.addressId ?? base?.addressId;
  if (addressId) device.addressId = addressId;
  const transport = loaded.profile.transport;
  if (transport === 'modbus') {
    const bus = f.bus ?? base?.modbus?.bus;
    const unitId = int('unit-id', f.unitId) ?? base?.modbus?.unitId;
    if (!bus || unitId === undefined) throw new CliError(`device ${id}: profile ${profileId} is Modbus`, EXIT.usage, 'pass --bus <bus id> --unit-id <1..247>');
    const poll = int('poll-ms', f.pollMs) ?? base?.modbus?.pollIntervalMs;
    device.modbus = { bus, unitId, ...(poll === undefined ? {} : { pollIntervalMs: poll }) };
  } else if (transport === 'serial') {
    const bus = f.bus ?? base?.serial?.bus;
    if (!bus) throw new CliError(`device ${id}: profile ${profileId} is serial`, EXIT.usage, 'pass --bus <serial bus id>');
    device.serial = { bus };
  } else {
    const username = f.mqttUsername ?? base?.mqtt?.username ?? id;
    const password = f.mqttPassword ?? base?.mqtt?.password;
    if (!password) throw new CliError(`device ${id}: profile ${profileId} is MQTT and needs the password the detector presents`, EXIT.usage, 'pass --mqtt-password <secret> (and --mqtt-username when it is not the device id)');
    device.mqtt = { username, password };
  }
  return device;
}

// --- Modbus helpers -------------------------------------------------------------------------

function transportFor(cf: ConfigFile, busId: string): { transport: ModbusSerialTransport; timeoutMs: number } {
  const bus = cf.config.buses.find((b) => b.id === busId);
  if (!bus || bus.kind === 'serial') throw new CliError(`no Modbus bus ${busId} in ${cf.file}`, EXIT.usage, `declare it under buses, or use one of: ${cf.config.buses.map((b) => b.id).join(', ') || 'none'}`);
  return { transport: new ModbusSerialTransport(endpointOf(bus)), timeoutMs: bus.timeoutMs ?? (bus.kind === 'rtu' ? 500 : 1000) };
}

async function openBus(transport: ModbusSerialTransport): Promise<void> {
  try {
    await transport.open();
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.unreachable, 'check the cable/adapter path, and stop the agent (systemctl stop gridwatch-edge) while you scan or read: one program per serial line');
  }
}

/** Reads every point of a Modbus device once and decodes it with its profile. */
async function readModbus(cf: ConfigFile, device: DeviceConfig): Promise<Record<string, number | boolean | string>> {
  const loaded = cf.profiles.profiles.get(device.profile)!;
  const profile = loaded.profile as ModbusProfile;
  const { transport, timeoutMs } = transportFor(cf, device.modbus!.bus);
  await openBus(transport);
  try {
    const blocks: RegisterBlock[] = [];
    for (const request of planReads(profile)) {
      try {
        blocks.push({ table: request.table, address: request.address, values: await transport.read(device.modbus!.unitId, request, timeoutMs) });
      } catch (err) {
        if (err instanceof ModbusIoError && err.kind === 'timeout') {
          throw new CliError(`device ${device.id}: no answer from unit ${device.modbus!.unitId} on ${device.modbus!.bus}`, EXIT.failed, 'check the unit id (gridwatch scan), wiring (A/B), baud rate and power');
        }
        throw new CliError(`device ${device.id}: ${(err as Error).message}`, EXIT.failed, 'check the profile matches the device model');
      }
    }
    const decoded = decodeRegisters(profile, device.id, blocks, Date.now());
    if (!decoded.ok) throw new CliError(`device ${device.id}: ${decoded.reason}`, EXIT.failed, 'check the profile matches the device model');
    return Object.fromEntries(decoded.readings.map((r) => [r.point, r.value as number | boolean | string]));
  } finally {
    await transport.close();
  }
}

// --- Commissioning records --------------------------------------------------------------------

interface DeviceRecord {
  deviceId: string;
  readBack?: { at: number; values: Record<string, unknown> };
  test?: {
    at: number;
    passed: boolean;
    roundTripMs: number | null;
    uplinkMs: number | null;
    eventId: string | null;
    community: string | null;
    grid: string | null;
    unit: { id: string; name: string; tier: string } | null;
    error?: string;
  };
}

function recordsFile(cf: ConfigFile): string {
  return join(cf.config.dataDir, 'commissioning.json');
}

function loadRecords(cf: ConfigFile): Record<string, DeviceRecord> {
  const file = recordsFile(cf);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, DeviceRecord>) : {};
}

function saveRecord(cf: ConfigFile, record: DeviceRecord): void {
  const all = loadRecords(cf);
  all[record.deviceId] = { ...all[record.deviceId], ...record };
  mkdirSync(cf.config.dataDir, { recursive: true });
  writeFileSync(recordsFile(cf), `${JSON.stringify(all, null, 2)}\n`);
}

// --- Cloud ----------------------------------------------------------------------------------

interface CloudFlags {
  cloudUrl?: string;
  user?: string;
  password?: string;
  token?: string;
}

async function cloudToken(f: CloudFlags): Promise<{ url: string; headers: Record<string, string> }> {
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
    throw new CliError(`cannot reach the cloud at ${url} (${(err as Error).message})`, EXIT.unreachable, 'check the URL and the gateway’s network');
  }
  if (res.status === 401) throw new CliError(`the cloud refused the login of ${user}`, EXIT.usage, 'check --user/--password (an installer account: gridwatch-cloud user add --role installer)');
  if (!res.ok) throw new CliError(`cloud login answered ${res.status}`, EXIT.unreachable, 'try again; check the cloud health at /healthz');
  const body = (await res.json()) as { token: string };
  return { url, headers: { authorization: `Bearer ${body.token}` } };
}

interface TestEventView {
  eventId: string;
  cloudTime: number;
  uplinkMs: number;
  community: string | null;
  grid: string | null;
  routedTo: { tier: string; unit: { id: string; name: string; tier: string } | null } | null;
}

/** The simulated detector's test press: its own credentials on the agent's local broker. */
async function pressSimulatedTest(cf: ConfigFile, device: DeviceConfig): Promise<() => Promise<void>> {
  if (!device.mqtt || device.profile !== 'generic/smoke-mqtt') {
    throw new CliError(`--simulate drives generic/smoke-mqtt detectors only (${device.id} is ${device.profile})`, EXIT.usage, 'press the detector’s test button instead (run without --simulate)');
  }
  const runtimeFile = join(cf.config.dataDir, 'runtime.json');
  if (!existsSync(runtimeFile)) throw new CliError('the agent is not running (no runtime.json)', EXIT.unreachable, 'start it: systemctl start gridwatch-edge');
  const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { localMqttPort: number };
  const host = cf.config.local.host === '0.0.0.0' ? '127.0.0.1' : cf.config.local.host;
  let client: mqtt.MqttClient;
  try {
    client = await mqtt.connectAsync(`mqtt://${host}:${runtime.localMqttPort}`, { username: device.mqtt.username, password: device.mqtt.password, clientId: `gridwatch-cli-${device.id}`, reconnectPeriod: 0, connectTimeout: 5000 });
  } catch (err) {
    throw new CliError(`cannot reach the agent's local broker (${(err as Error).message})`, EXIT.unreachable, 'start the agent: systemctl start gridwatch-edge');
  }
  const topic = `dev/${device.id}/up`;
  const state = { alarm: false, fault: false, tamper: false, battery: 96, smoke_density: 0.01, test: false };
  await client.publishAsync(topic, JSON.stringify({ ...state, alarm: true, test: true }), { qos: 1 });
  return async () => {
    await client.publishAsync(topic, JSON.stringify(state), { qos: 1 });
    await client.endAsync();
  };
}

async function commissionTest(cf: ConfigFile, device: DeviceConfig, opts: CloudFlags & { simulate?: boolean; timeoutS: string }): Promise<DeviceRecord['test']> {
  const cloud = await cloudToken(opts);
  const timeoutMs = (int('timeout-s', opts.timeoutS) ?? 60) * 1000;
  const since = Date.now();
  const release = opts.simulate ? await pressSimulatedTest(cf, device) : null;
  if (!opts.simulate) process.stderr.write(`Press the test button of ${device.id} now; waiting up to ${timeoutMs / 1000} s for the cloud…\n`);
  try {
    const query = new URL('/api/v1/test-events', cloud.url);
    query.searchParams.set('gatewayId', cf.config.gateway.id);
    query.searchParams.set('deviceId', device.id);
    query.searchParams.set('since', String(since - 1000));
    for (;;) {
      let res: Response;
      try {
        res = await fetch(query, { headers: cloud.headers });
      } catch (err) {
        throw new CliError(`cannot reach the cloud (${(err as Error).message})`, EXIT.unreachable, 'check the URL and the network');
      }
      if (res.status === 401) throw new CliError('the cloud wants a login', EXIT.usage, 'pass --user/--password of an installer account, or --token');
      if (!res.ok) throw new CliError(`cloud answered ${res.status}`, EXIT.unreachable, 'check the cloud health at /healthz');
      const events = ((await res.json()) as { testEvents: TestEventView[] }).testEvents;
      const seen = events[0];
      if (seen) {
        const roundTripMs = Date.now() - since;
        const unit = seen.routedTo?.unit ?? null;
        return {
          at: Date.now(),
          passed: unit !== null,
          roundTripMs,
          uplinkMs: seen.uplinkMs,
          eventId: seen.eventId,
          community: seen.community,
          grid: seen.grid,
          unit: unit ? { id: unit.id, name: unit.name, tier: unit.tier } : null,
          ...(unit ? {} : { error: 'reached the cloud but no unit would receive an alarm from this address' }),
        };
      }
      if (Date.now() - since > timeoutMs) {
        throw new CliError(`the cloud did not record a test report from ${device.id} within ${timeoutMs / 1000} s`, EXIT.timeout, 'check the agent is running and online (gridwatch-edge health), the device wiring, and press the test button again');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await release?.();
  }
}

// --- Enrollment -------------------------------------------------------------------------------

/**
 * The config as the agent will read it, but before it has a password (that is what enrollment
 * gets): everything else is validated as at start-up.
 */
function configForEnroll(file: string): EdgeConfig {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as Error).message})`, EXIT.usage, 'pass the edge config with --config <file> (default /etc/gridwatch/edge.yaml)');
  }
  const doc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const cloud = (typeof doc.cloud === 'object' && doc.cloud !== null ? doc.cloud : {}) as Record<string, unknown>;
  try {
    return resolveConfig({ ...doc, cloud: { ...cloud, password: cloud.password ?? 'enrolling' } }, file, dirname(resolve(file)));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage, `fix the value at the path named above (check with: gridwatch-edge check -c ${file})`);
    throw err;
  }
}

const LOOPBACK = /^(localhost|127\.[0-9.]+|\[::1\])$/i;

interface EnrollAnswer {
  gatewayId: string;
  site: string;
  username: string;
  password: string;
  brokerUrl?: string;
}

async function enroll(o: Common & { token?: string; cloud?: string; ca?: string }): Promise<void> {
  const token = o.token ?? process.env.GRIDWATCH_ENROLL_TOKEN;
  if (!token) throw new CliError('no enrollment token', EXIT.usage, 'pass --token <token> from the cloud admin (gridwatch-cloud enroll-token, or POST /api/v1/enrollment-tokens)');
  const cloudUrl = o.cloud ?? process.env.GRIDWATCH_CLOUD_URL;
  if (!cloudUrl) throw new CliError('no cloud URL', EXIT.usage, 'pass --cloud https://… (or set GRIDWATCH_CLOUD_URL)');
  let endpoint: URL;
  try {
    endpoint = new URL('/api/v1/enroll', cloudUrl);
  } catch {
    throw new CliError(`--cloud: not a URL: ${cloudUrl}`, EXIT.usage, 'pass the cloud HTTP(S) URL, e.g. --cloud https://gridwatch.example.org');
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new CliError(`--cloud: expected an http(s) URL, got ${endpoint.protocol}`, EXIT.usage, 'pass the cloud HTTP(S) URL, e.g. --cloud https://gridwatch.example.org');
  let ca: string | undefined;
  if (o.ca !== undefined) {
    try {
      ca = readFileSync(o.ca, 'utf8');
    } catch (err) {
      throw new CliError(`--ca: cannot read ${o.ca} (${(err as Error).message})`, EXIT.usage, 'pass the PEM file of the CA that signed the broker certificate');
    }
  }
  const config = configForEnroll(o.config);
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // The gateway id lets the cloud refuse a token meant for another gateway without spending it.
      body: JSON.stringify({ token, gatewayId: config.gateway.id }),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach the cloud at ${cloudUrl} (${(err as Error).message})`, EXIT.unreachable, 'check the URL and the gateway’s network, then run enroll again (the token is not spent)');
  }
  const body = (await res.json().catch(() => ({}))) as Partial<EnrollAnswer> & { error?: string };
  if (res.status === 401 || res.status === 410) {
    throw new CliError(`the cloud refused the token: ${body.error ?? res.status}`, EXIT.usage, 'ask the cloud admin for a new enrollment token (tokens work once, and only until they expire)');
  }
  if (res.status >= 400 && res.status < 500) {
    throw new CliError(`the cloud refused the enrollment: ${body.error ?? res.status}`, EXIT.usage, `check gateway.id/site in ${o.config} match the token, or ask for a token for ${config.gateway.id} (site ${config.gateway.site})`);
  }
  if (!res.ok || typeof body.username !== 'string' || typeof body.password !== 'string') {
    throw new CliError(`the cloud answered ${res.status}${body.error ? `: ${body.error}` : ''}`, EXIT.unreachable, 'try again later; check the cloud health at /healthz');
  }
  if (body.gatewayId !== config.gateway.id || body.site !== config.gateway.site) {
    throw new CliError(`the token enrolled gateway ${String(body.gatewayId)} (site ${String(body.site)}), but ${o.config} is gateway ${config.gateway.id} (site ${config.gateway.site})`, EXIT.usage, 'set gateway.id and gateway.site in the config to those values, then ask for a new token');
  }
  // The broker URL the cloud names, unless it is a loopback address while the cloud is elsewhere
  // (a cloud without gatewayBrokerUrl configured names its own view): then cloud.url stays in force.
  const cloudHost = endpoint.hostname;
  let url: string | undefined;
  let urlNote: string | null = null;
  if (typeof body.brokerUrl === 'string' && /^mqtts?:\/\/\S+$/.test(body.brokerUrl)) {
    const host = new URL(body.brokerUrl).hostname;
    if (LOOPBACK.test(host) && !LOOPBACK.test(cloudHost)) urlNote = `the cloud named a loopback broker (${body.brokerUrl}); keeping cloud.url ${config.cloud.url} from the config`;
    else url = body.brokerUrl;
  }
  const credentials: Credentials = { username: body.username, password: body.password, ...(url === undefined ? {} : { url }), ...(ca === undefined ? {} : { ca }) };
  const file = config.cloud.credentialsFile;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    throw new CliError(`enrolled, but cannot write ${file} (${(err as Error).message}); the token is spent`, EXIT.failed, 'fix the permissions of the data folder (run as the agent’s user or root), then ask for a new token');
  }
  const next = `restart the agent to connect with the new credential: systemctl restart gridwatch-edge (or gridwatch-edge run -c ${o.config}); then gridwatch-edge check -c ${o.config}`;
  const brokerUrl = url ?? config.cloud.url;
  emit(o, { ok: true, gatewayId: body.gatewayId, site: body.site, username: body.username, brokerUrl, credentialsFile: file, next, ...(urlNote ? { note: urlNote } : {}) }, () =>
    [
      `enrolled gateway ${body.gatewayId} (site ${body.site}) as MQTT user ${body.username}`,
      `credentials written to ${file} (mode 0600); broker ${brokerUrl}`,
      ...(urlNote ? [`note: ${urlNote}`] : []),
      `next: ${next}`,
    ].join('\n'),
  );
}

// --- Report -----------------------------------------------------------------------------------

function thresholdsOf(cf: ConfigFile, device: DeviceConfig): string[] {
  const profile = cf.profiles.profiles.get(device.profile)?.profile as { rules?: Record<string, unknown>[] } | undefined;
  return (profile?.rules ?? []).map((r) => {
    const parts = [`${String(r.alarmType)} (L${String(r.level)})`, `${String(r.kind)} ${String(r.point)}`];
    for (const key of ['above', 'below', 'threshold', 'deadband', 'delta', 'windowSeconds', 'onDelaySeconds', 'offDelaySeconds']) {
      if (r[key] !== undefined) parts.push(`${key} ${String(r[key])}`);
    }
    return parts.join(' ');
  });
}

// --- Commands ---------------------------------------------------------------------------------

export function registerCli(program: Command): void {
  const withCommon = (command: Command): Command =>
    command.option('-c, --config <file>', 'edge config file (env GRIDWATCH_CONFIG)', DEFAULT_CONFIG).option('--json', 'machine-readable output on stdout');

  const device = program.command('device').description('devices of this gateway in the edge config file, validated against the profiles');
  const deviceOptions = (c: Command): Command =>
    c
      .option('--profile <id>', 'firmware profile, e.g. generic/smoke-modbus')
      .option('--address-id <id>', 'standard address id where the device is installed')
      .option('--bus <id>', 'bus (Modbus or serial devices)')
      .option('--unit-id <n>', 'Modbus slave / unit id (1..247)')
      .option('--poll-ms <ms>', 'Modbus poll interval')
      .option('--mqtt-username <name>', 'MQTT detectors: username (default: the device id)')
      .option('--mqtt-password <secret>', 'MQTT detectors: password');

  withCommon(deviceOptions(device.command('add').description('add a device').requiredOption('--id <id>', 'device id'))).action(
    run<Common & DeviceFlags>((o) => {
      const cf = openConfig(o.config);
      if (cf.config.devices.some((d) => d.id === o.id)) throw new CliError(`device ${o.id} already exists`, EXIT.usage, `change it with: gridwatch device edit ${o.id} …`);
      const added = buildDevice(cf, o);
      saveDevices(cf, (list) => [...list, added]);
      emit(o, { ok: true, device: added }, () => `added ${added.id} (${added.profile}, ${describe(added)})`);
    }),
  );

  withCommon(device.command('list').description('list the devices')).action(
    run<Common>((o) => {
      const cf = openConfig(o.config);
      emit(o, { devices: cf.config.devices }, () =>
        table(['id', 'profile', 'connection', 'address'], cf.config.devices.map((d) => [d.id, d.profile, describe(d), d.addressId ?? '—'])),
      );
    }),
  );

  withCommon(device.command('show').description('one device, its profile and thresholds').argument('<id>')).action(
    run<Common>((o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      const record = loadRecords(cf)[d.id] ?? null;
      const info = { device: d, thresholds: thresholdsOf(cf, d), commissioning: record };
      emit(o, info, () => `${d.id}\n  profile:    ${d.profile}\n  connection: ${describe(d)}\n  address:    ${d.addressId ?? '—'}\n  rules:\n${info.thresholds.map((t) => `    - ${t}`).join('\n')}`);
    }),
  );

  withCommon(deviceOptions(device.command('edit').description('change a device (only the given options)').argument('<id>'))).action(
    run<Common & DeviceFlags>((o, id) => {
      const cf = openConfig(o.config);
      const current = deviceOf(cf, id as string);
      const changed = buildDevice(cf, { ...o, id: current.id }, o.profile && o.profile !== current.profile ? { id: current.id, profile: o.profile } : current);
      saveDevices(cf, (list) => list.map((d) => (d.id === current.id ? changed : d)));
      emit(o, { ok: true, device: changed }, () => `changed ${changed.id} (${changed.profile}, ${describe(changed)})`);
    }),
  );

  withCommon(device.command('remove').description('remove a device').argument('<id>')).action(
    run<Common>((o, id) => {
      const cf = openConfig(o.config);
      deviceOf(cf, id as string);
      saveDevices(cf, (list) => list.filter((d) => d.id !== id));
      emit(o, { ok: true, removed: id }, () => `removed ${id as string}`);
    }),
  );

  withCommon(
    device
      .command('import')
      .description('add or replace devices from a CSV: id,profile,address_id,bus,unit_id,poll_ms,mqtt_username,mqtt_password')
      .argument('<file.csv>'),
  ).action(
    run<Common>((o, file) => {
      const cf = openConfig(o.config);
      let text: string;
      try {
        text = readFileSync(file as string, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file as string} (${(err as Error).message})`, EXIT.usage, 'check the CSV path');
      }
      const rows = parseCsv(text);
      const devices = rows.map((r, i) => {
        try {
          return buildDevice(cf, { id: r.id, profile: r.profile, addressId: r.address_id || undefined, bus: r.bus || undefined, unitId: r.unit_id || undefined, pollMs: r.poll_ms || undefined, mqttUsername: r.mqtt_username || undefined, mqttPassword: r.mqtt_password || undefined });
        } catch (err) {
          if (err instanceof CliError) throw new CliError(`${file as string} line ${i + 2}: ${err.message}`, err.exitCode, err.next);
          throw err;
        }
      });
      const ids = new Set(devices.map((d) => d.id));
      // The whole file is validated before anything is written.
      saveDevices(cf, (list) => [...list.filter((d) => !ids.has(d.id)), ...devices]);
      emit(o, { ok: true, imported: devices.map((d) => d.id) }, () => `imported ${devices.length} devices: ${devices.map((d) => d.id).join(', ')}`);
    }),
  );

  withCommon(
    program
      .command('scan')
      .description('probe a Modbus bus for slave ids (any answer, even an exception, means a slave is there)')
      .requiredOption('--bus <id>', 'bus id from the config file')
      .option('--from <n>', 'first unit id', '1')
      .option('--to <n>', 'last unit id', '247')
      .option('--timeout-ms <ms>', 'answer timeout per id', '100'),
  ).action(
    run<Common & { bus: string; from: string; to: string; timeoutMs: string }>(async (o) => {
      const cf = openConfig(o.config);
      const from = int('from', o.from) ?? 1;
      const to = int('to', o.to) ?? 247;
      if (from < 1 || to > 247 || from > to) throw new CliError('unit ids are 1..247', EXIT.usage, 'pass --from/--to within 1..247');
      const timeoutMs = int('timeout-ms', o.timeoutMs) ?? 100;
      const { transport } = transportFor(cf, o.bus);
      await openBus(transport);
      const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: 'scanning {bar} {value}/{total} ids | found {found}', stream: process.stderr }, Presets.shades_classic) : null;
      bar?.start(to - from + 1, 0, { found: 0 });
      const found: { unitId: number; answer: string }[] = [];
      try {
        for (let unitId = from; unitId <= to; unitId++) {
          try {
            await transport.read(unitId, { table: 'holding', address: 0, count: 1 }, timeoutMs);
            found.push({ unitId, answer: 'registers' });
          } catch (err) {
            if (err instanceof ModbusIoError && err.kind === 'exception') found.push({ unitId, answer: err.message });
            else if (!(err instanceof ModbusIoError) || (err.kind !== 'timeout' && err.kind !== 'crc')) throw err;
          }
          bar?.increment(1, { found: found.length });
        }
      } finally {
        bar?.stop();
        await transport.close();
      }
      const configured = cf.config.devices.filter((d) => d.modbus?.bus === o.bus);
      const result = found.map((f) => ({ ...f, device: configured.find((d) => d.modbus?.unitId === f.unitId)?.id ?? null }));
      const missing = configured.filter((d) => !found.some((f) => f.unitId === d.modbus?.unitId) && d.modbus!.unitId >= from && d.modbus!.unitId <= to).map((d) => ({ unitId: d.modbus!.unitId, device: d.id }));
      emit(o, { bus: o.bus, from, to, found: result, missing }, () =>
        [
          table(['unit id', 'configured device', 'answer'], result.map((r) => [r.unitId, r.device ?? '(not configured)', r.answer])),
          missing.length ? `configured but silent: ${missing.map((m) => `${m.device} (unit ${m.unitId})`).join(', ')}` : `all ${configured.length} configured devices answered`,
        ].join('\n'),
      );
      if (missing.length) process.exitCode = EXIT.failed;
    }),
  );

  withCommon(program.command('read').description("read a device's live values through the driver (stop the agent first on a serial line)").argument('<device>')).action(
    run<Common>(async (o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      if (!d.modbus) throw new CliError(`${d.id} is not a Modbus device; its live values come through the agent`, EXIT.usage, 'see its latest values in the console or GET /api/v1/readings');
      const values = await readModbus(cf, d);
      saveRecord(cf, { deviceId: d.id, readBack: { at: Date.now(), values } });
      emit(o, { device: d.id, values }, () => table(['point', 'value'], Object.entries(values).map(([k, v]) => [k, String(v)])));
    }),
  );

  const cloudOptions = (c: Command): Command =>
    c
      .option('--cloud-url <url>', 'cloud HTTP URL (env GRIDWATCH_CLOUD_URL)')
      .option('--user <name>', 'installer account (env GRIDWATCH_CLOUD_USER)')
      .option('--password <password>', 'its password (env GRIDWATCH_CLOUD_PASSWORD)')
      .option('--token <token>', 'a session token instead (env GRIDWATCH_CLOUD_TOKEN)');

  withCommon(
    cloudOptions(
      program
        .command('test')
        .description("commissioning round trip: trigger the detector's test, wait for the cloud to record it, show where it routes and how long it took")
        .argument('<device>')
        .option('--simulate', 'drive a simulated detector (generic/smoke-mqtt) instead of pressing its button')
        .option('--timeout-s <s>', 'how long to wait for the cloud', '60'),
    ),
  ).action(
    run<Common & CloudFlags & { simulate?: boolean; timeoutS: string }>(async (o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      const result = await commissionTest(cf, d, o);
      saveRecord(cf, { deviceId: d.id, test: result });
      emit(o, { device: d.id, ...result }, () =>
        [
          `${d.id}: ${result!.passed ? 'PASS' : 'FAIL'} — round trip ${result!.roundTripMs} ms (gateway → cloud ${result!.uplinkMs} ms)`,
          `  routed to: community ${result!.community ?? '—'}, grid ${result!.grid ?? '—'}, unit ${result!.unit ? `${result!.unit.name} (${result!.unit.id}, ${result!.unit.tier})` : 'none'}`,
          ...(result!.error ? [`  ${result!.error}: import the address and units in the cloud`] : []),
        ].join('\n'),
      );
      if (!result!.passed) process.exitCode = EXIT.failed;
    }),
  );

  withCommon(
    program
      .command('enroll')
      .description("exchange a one-time enrollment token for this gateway's own MQTT credential; writes <dataDir>/credentials.json (mode 0600)")
      .option('--token <token>', 'one-time enrollment token from the cloud admin (env GRIDWATCH_ENROLL_TOKEN)')
      .option('--cloud <url>', 'cloud HTTP(S) URL (env GRIDWATCH_CLOUD_URL)')
      .option('--ca <file.pem>', 'also store this CA (PEM) for the broker certificate in the credentials'),
  ).action(run<Common & { token?: string; cloud?: string; ca?: string }>((o) => enroll(o)));

  withCommon(
    program
      .command('report')
      .description('commissioning report per device (read-back values, thresholds, round trip, pass/fail) as Markdown and JSON')
      .option('--out <prefix>', 'files to write: <prefix>.md and <prefix>.json', 'commissioning-report'),
  ).action(
    run<Common & { out: string }>((o) => {
      const cf = openConfig(o.config);
      const records = loadRecords(cf);
      const devices = cf.config.devices.map((d) => {
        const r = records[d.id];
        const passed = r?.test?.passed === true;
        return {
          deviceId: d.id,
          profile: d.profile,
          connection: describe(d),
          addressId: d.addressId ?? null,
          readBack: r?.readBack ?? null,
          thresholds: thresholdsOf(cf, d),
          roundTripMs: r?.test?.roundTripMs ?? null,
          routedTo: r?.test ? { community: r.test.community, grid: r.test.grid, unit: r.test.unit } : null,
          result: passed ? 'pass' : r?.test ? 'fail' : 'not tested',
        };
      });
      const report = { gatewayId: cf.config.gateway.id, site: cf.config.gateway.site, generatedAt: new Date().toISOString(), devices };
      const md = [
        `# Commissioning report — gateway ${report.gatewayId} (${report.site})`,
        '',
        `Generated ${report.generatedAt}.`,
        '',
        '| Device | Profile | Connection | Address | Round trip | Routed to | Result |',
        '|---|---|---|---|---|---|---|',
        ...devices.map((d) => `| ${d.deviceId} | ${d.profile} | ${d.connection} | ${d.addressId ?? '—'} | ${d.roundTripMs === null ? '—' : `${d.roundTripMs} ms`} | ${d.routedTo ? `${d.routedTo.community ?? '—'} / ${d.routedTo.unit?.id ?? '—'}` : '—'} | ${d.result.toUpperCase()} |`),
        '',
        ...devices.flatMap((d) => [
          `## ${d.deviceId}`,
          '',
          `- Thresholds in force: ${d.thresholds.length ? d.thresholds.join('; ') : '—'}`,
          `- Read-back values: ${d.readBack ? Object.entries(d.readBack.values).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '—'}`,
          '',
        ]),
      ].join('\n');
      writeFileSync(`${o.out}.md`, md);
      writeFileSync(`${o.out}.json`, `${JSON.stringify(report, null, 2)}\n`);
      const failed = devices.filter((d) => d.result !== 'pass').length;
      emit(o, { ...report, files: [`${o.out}.md`, `${o.out}.json`] }, () => `${md}\nwritten: ${o.out}.md, ${o.out}.json`);
      if (failed) process.exitCode = EXIT.failed;
    }),
  );
}
