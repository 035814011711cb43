// Edge configuration: one versioned YAML or JSON file validated against this schema. The schema's
// descriptions are the reference; unknown keys are errors naming the file and the JSON path.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { DeviceId, GatewayId, SiteId } from '@gridwatch/protocol';
import { BUNDLED_PROFILES_DIR, type Profile, type ProfileCollection, type Rule } from '@gridwatch/firmware-profiles';
import { applyRuleOverrides, type RuleOverrideAt } from './rules/overrides.ts';

export const CONFIG_VERSION = 1 as const;

const Secret = Type.String({ minLength: 1, maxLength: 256 });

const BUS_ID = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$', description: 'Bus id, referred to by devices' });
const SerialLine = {
  path: Type.String({ minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…' }),
  baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921600, description: 'Default 9600' })),
  parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { description: 'Default none' })),
  dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)], { description: 'Default 8' })),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Default 1' })),
};
const Polling = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60000, description: 'Answer timeout per request; default 500 (RTU), 1000 (TCP)' })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: 'Extra attempts after a timeout or CRC error; default 1' })),
  maxBackoffMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3600000, description: 'Cap of a silent device back-off; default 60000' })),
  faultyAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Failed polls in a row before a device is faulty; default 3' })),
};

export const BusSchemas = {
  rtu: Type.Object({ id: BUS_ID, kind: Type.Literal('rtu', { description: 'Modbus RTU on a serial line (RS-485)' }), ...SerialLine, ...Polling }, { additionalProperties: false }),
  tcp: Type.Object(
    {
      id: BUS_ID,
      kind: Type.Literal('tcp', { description: 'Modbus TCP server or RTU-to-TCP gateway' }),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Usually 502' }),
      ...Polling,
    },
    { additionalProperties: false },
  ),
  serial: Type.Object({ id: BUS_ID, kind: Type.Literal('serial', { description: 'Framed serial line (one device)' }), ...SerialLine }, { additionalProperties: false }),
} as const;
export const BusConfigSchema = Type.Union([BusSchemas.rtu, BusSchemas.tcp, BusSchemas.serial]);
export type BusConfig = Static<typeof BusConfigSchema>;

/**
 * Overrides a profile rule by alarmType (any rule field; `disabled: true` removes it) or adds a
 * rule (a new alarmType with a `kind`). The merged rule is checked against the rule schema of its
 * kind and the profile's points at load time.
 */
const RuleOverride = Type.Object(
  {
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'Rule to override, or of the rule to add' }),
    disabled: Type.Optional(Type.Boolean({ description: 'Remove this rule' })),
  },
  { additionalProperties: true },
);
const SiteRuleOverride = Type.Object(
  {
    profile: Type.String({ description: 'Profile whose rule this overrides for every device using it' }),
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const ActuatorSchema = Type.Object(
  {
    when: Type.Object(
      { device: DeviceId, alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }) },
      { additionalProperties: false, description: 'The alarm that drives the output' },
    ),
    target: Type.Object(
      { device: DeviceId, point: Type.String({ description: 'A readwrite point of the target device (siren coil, relay)' }) },
      { additionalProperties: false },
    ),
    onRaise: Type.Union([Type.Boolean(), Type.Number()], { default: true, description: 'Value written when the alarm is raised' }),
    onClear: Type.Optional(Type.Union([Type.Boolean(), Type.Number()], { description: 'Value written when it clears; default: leave the output as it is (an operator silences it)' })),
    minIntervalMs: Type.Integer({ minimum: 0, maximum: 3600000, default: 2000, description: 'Rate limit per target point; a newer value within it is written when the interval ends' }),
    confirmWithinMs: Type.Integer({ minimum: 50, maximum: 60000, default: 2000, description: 'The written value must be read back within this time, else it is written once more and reported' }),
  },
  { additionalProperties: false, description: 'Local actuation: an alarm drives an output at once, with or without the uplink' },
);
export type ActuatorConfig = Static<typeof ActuatorSchema>;

export const DeviceConfigSchema = Type.Object(
  {
    id: DeviceId,
    profile: Type.String({ description: 'Id of a firmware profile, e.g. generic/smoke-mqtt' }),
    addressId: Type.Optional(Type.String({ maxLength: 64, description: 'Standard address id where the device is installed' })),
    mqtt: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 128, description: 'Username the device presents at CONNECT' }),
          password: Secret,
        },
        { additionalProperties: false, description: 'Credentials of a device speaking MQTT to the local broker' },
      ),
    ),
    modbus: Type.Optional(
      Type.Object(
        {
          bus: BUS_ID,
          unitId: Type.Integer({ minimum: 1, maximum: 247, description: 'Slave address on the line, or unit id behind a TCP gateway' }),
          pollIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 3600000, description: 'Default 1000' })),
        },
        { additionalProperties: false, description: 'A device on a Modbus bus declared in `buses`' },
      ),
    ),
    serial: Type.Optional(
      Type.Object({ bus: BUS_ID }, { additionalProperties: false, description: 'A device on a framed serial bus declared in `buses`' }),
    ),
    rules: Type.Optional(Type.Array(RuleOverride, { maxItems: 256, description: 'Overrides of this device\'s profile rules, applied after the site-level ones' })),
  },
  { additionalProperties: false },
);

export const EdgeConfigSchema = Type.Object(
  {
    version: Type.Literal(CONFIG_VERSION, { description: 'Config file format version' }),
    gateway: Type.Object({ id: GatewayId, site: SiteId }, { additionalProperties: false }),
    dataDir: Type.String({ minLength: 1, description: 'Folder for the outbox database and runtime.json; relative to the config file' }),
    profilesDir: Type.Optional(Type.String({ minLength: 1, description: "Profile collection; default: the repository's firmware-profiles/profiles" })),
    logLevel: Type.Optional(
      Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
    ),
    cloud: Type.Object(
      {
        url: Type.String({ pattern: '^mqtts?://[^\\s]+$', description: 'Cloud broker, mqtt:// or mqtts://' }),
        username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Default: the gateway id' })),
        password: Type.Optional(Secret),
        ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the broker certificate' })),
        rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate (mqtts)' }),
        resendAfterMs: Type.Integer({ minimum: 100, maximum: 600000, default: 5000, description: 'Resend events not acked within this time' }),
        reconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000, description: 'First reconnect delay; doubles per failed attempt up to maxReconnectPeriodMs, with jitter' }),
        maxReconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 3600000, default: 60000, description: 'Cap of the reconnect back-off' }),
        credentialsFile: Type.Optional(
          Type.String({ minLength: 1, description: 'JSON written by `enroll` ({username, password, url?, ca?}); default ${dataDir}/credentials.json when present' }),
        ),
      },
      { additionalProperties: false },
    ),
    local: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Interface the local broker and HTTP server listen on' }),
        mqttPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1884, description: 'Local MQTT broker port; 0 = ephemeral' }),
        httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Health/metrics port; 0 = ephemeral' }),
      },
      { additionalProperties: false, default: {} },
    ),
    buses: Type.Array(BusConfigSchema, { default: [], description: 'Serial lines and Modbus TCP endpoints devices sit on' }),
    devices: Type.Array(DeviceConfigSchema, { default: [] }),
    rules: Type.Array(SiteRuleOverride, { default: [], description: 'Site-level overrides of profile rules, per profile' }),
    actuators: Type.Array(ActuatorSchema, { default: [] }),
    outbox: Type.Object(
      {
        telemetryBudgetBytes: Type.Integer({ minimum: 65536, default: 256 * 1024 * 1024, description: 'Disk budget of the telemetry lane; thinned beyond it (alarms are never thinned)' }),
        telemetryFlushMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'How often buffered readings are written to disk' }),
        telemetry: Type.Boolean({ default: true, description: 'Send readings to the cloud as telemetry' }),
      },
      { additionalProperties: false, default: {} },
    ),
    health: Type.Object(
      {
        uplinkDownAlarmSeconds: Type.Integer({ minimum: 1, default: 900, description: 'Raise uplink_down after the cloud was unreachable this long' }),
        clockJumpSeconds: Type.Integer({ minimum: 1, default: 120, description: 'Raise clock_jump when wall time and monotonic time drift apart by this much' }),
        tickMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'Period of time-based rule evaluation' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type DeviceConfig = Static<typeof DeviceConfigSchema>;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The configuration after defaults and path resolution. */
export interface EdgeConfig {
  /** Where the configuration came from, for error messages. */
  source: string;
  version: typeof CONFIG_VERSION;
  gateway: { id: string; site: string };
  dataDir: string;
  profilesDir: string;
  logLevel: LogLevel;
  cloud: {
    url: string;
    username: string;
    password: string;
    /** PEM text of the CA, read at load time so a bad path fails at start-up. */
    ca?: string;
    rejectUnauthorized: boolean;
    resendAfterMs: number;
    reconnectPeriodMs: number;
    maxReconnectPeriodMs: number;
    credentialsFile: string;
  };
  local: { host: string; mqttPort: number; httpPort: number };
  buses: BusConfig[];
  devices: DeviceConfig[];
  rules: Array<Record<string, unknown> & { profile: string; alarmType: string }>;
  actuators: ActuatorConfig[];
  outbox: { telemetryBudgetBytes: number; telemetryFlushMs: number; telemetry: boolean };
  health: { uplinkDownAlarmSeconds: number; clockJumpSeconds: number; tickMs: number };
}

/** What `gridwatch-edge enroll` writes: the gateway's own credential, issued by the cloud. */
export interface Credentials {
  username: string;
  password: string;
  url?: string;
  /** PEM of the CA that signed the broker certificate. */
  ca?: string;
}

export class ConfigError extends Error {
  readonly source: string;
  readonly path: string;
  constructor(source: string, path: string, expected: string) {
    super(`${source}: ${path}: ${expected}`);
    this.name = 'ConfigError';
    this.source = source;
    this.path = path;
  }
}

const checker = TypeCompiler.Compile(EdgeConfigSchema);

function uniqueBy(devices: DeviceConfig[], key: (d: DeviceConfig) => string | undefined, field: string, source: string): void {
  const seen = new Set<string>();
  devices.forEach((device, index) => {
    const value = key(device);
    if (value === undefined) return;
    if (seen.has(value)) throw new ConfigError(source, `/devices/${index}/${field}`, `duplicate ${field.replace('/', '.')} ${value}`);
    seen.add(value);
  });
}

/**
 * Validates a parsed configuration, applies defaults and resolves relative paths against
 * `baseDir`. Throws a ConfigError naming `source` and the JSON path.
 */
export function resolveConfig(raw: unknown, source: string, baseDir: string): EdgeConfig {
  const value = Value.Default(EdgeConfigSchema, Value.Clone(raw));
  if (typeof value === 'object' && value !== null && 'version' in value && value.version !== CONFIG_VERSION) {
    throw new ConfigError(source, '/version', `unsupported config version ${JSON.stringify(value.version)} (expected ${CONFIG_VERSION})`);
  }
  // Each bus is checked against the schema of its own kind first, so an error names the real
  // problem rather than "expected union value".
  const buses = typeof value === 'object' && value !== null && 'buses' in value ? value.buses : undefined;
  if (Array.isArray(buses)) {
    buses.forEach((bus: unknown, index) => {
      const kind = typeof bus === 'object' && bus !== null && 'kind' in bus ? bus.kind : undefined;
      const schema = BusSchemas[kind as keyof typeof BusSchemas] as TSchema | undefined;
      if (!schema) throw new ConfigError(source, `/buses/${index}/kind`, `expected one of ${Object.keys(BusSchemas).join(', ')}`);
      const errors = [...Value.Errors(schema, bus)];
      if (errors[0]) throw new ConfigError(source, `/buses/${index}${errors[0].path}`, errors[0].message);
    });
  }
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    throw new ConfigError(source, first?.path || '/', first?.message ?? 'invalid');
  }
  const parsed: Static<typeof EdgeConfigSchema> = value;
  uniqueBy(parsed.devices, (d) => d.id, 'id', source);
  uniqueBy(parsed.devices, (d) => d.mqtt?.username, 'mqtt/username', source);
  const busIds = new Set<string>();
  parsed.buses.forEach((bus, index) => {
    if (busIds.has(bus.id)) throw new ConfigError(source, `/buses/${index}/id`, `duplicate bus id ${bus.id}`);
    busIds.add(bus.id);
  });
  let ca: string | undefined;
  if (parsed.cloud.ca !== undefined) {
    try {
      ca = readFileSync(resolve(baseDir, parsed.cloud.ca), 'utf8');
    } catch (err) {
      throw new ConfigError(source, '/cloud/ca', `cannot read CA file (${(err as Error).message})`);
    }
  }
  const dataDir = resolve(baseDir, parsed.dataDir);
  const credentialsFile = parsed.cloud.credentialsFile === undefined ? resolve(dataDir, 'credentials.json') : resolve(baseDir, parsed.cloud.credentialsFile);
  let credentials: Credentials | undefined;
  try {
    credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Credentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parsed.cloud.credentialsFile !== undefined) {
      throw new ConfigError(source, '/cloud/credentialsFile', `cannot read credentials (${(err as Error).message})`);
    }
  }
  if (credentials && (typeof credentials.username !== 'string' || typeof credentials.password !== 'string')) {
    throw new ConfigError(source, '/cloud/credentialsFile', `${credentialsFile}: expected {username, password}`);
  }
  const password = credentials?.password ?? parsed.cloud.password;
  if (password === undefined) throw new ConfigError(source, '/cloud/password', 'expected a password, or enroll the gateway first (gridwatch-edge enroll --token …)');
  return {
    source,
    version: CONFIG_VERSION,
    gateway: parsed.gateway,
    dataDir,
    profilesDir: parsed.profilesDir === undefined ? BUNDLED_PROFILES_DIR : resolve(baseDir, parsed.profilesDir),
    logLevel: (parsed.logLevel ?? 'info') as LogLevel,
    cloud: {
      url: credentials?.url ?? parsed.cloud.url,
      username: credentials?.username ?? parsed.cloud.username ?? parsed.gateway.id,
      password,
      ...(ca === undefined ? (credentials?.ca === undefined ? {} : { ca: credentials.ca }) : { ca }),
      rejectUnauthorized: parsed.cloud.rejectUnauthorized,
      resendAfterMs: parsed.cloud.resendAfterMs,
      reconnectPeriodMs: parsed.cloud.reconnectPeriodMs,
      maxReconnectPeriodMs: Math.max(parsed.cloud.maxReconnectPeriodMs, parsed.cloud.reconnectPeriodMs),
      credentialsFile,
    },
    local: parsed.local,
    buses: parsed.buses,
    devices: parsed.devices,
    rules: parsed.rules as EdgeConfig['rules'],
    actuators: parsed.actuators,
    outbox: parsed.outbox,
    health: parsed.health,
  };
}

/** Reads a `.yaml`/`.yml`/`.json` config file. */
export function loadConfig(file: string): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '/', `cannot read config file (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(file, '/', `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${(err as Error).message})`);
  }
  return resolveConfig(raw, file, dirname(resolve(file)));
}

export interface BoundDevice {
  device: DeviceConfig;
  profile: Profile;
  /** The profile's rules after the site-level and device-level overrides (default: the profile's). */
  rules?: Rule[];
}

const TRANSPORT_KEYS = ['mqtt', 'modbus', 'serial'] as const;

/**
 * Pairs each device with its profile and checks its transport block: exactly one of mqtt, modbus,
 * serial, matching the profile's transport, on a declared bus of the right kind, with no two
 * devices at one address. Every problem is a start-up error naming the file and the JSON path.
 */
export function bindDevices(config: EdgeConfig, collection: ProfileCollection): Map<string, BoundDevice> {
  const bound = new Map<string, BoundDevice>();
  const buses = new Map(config.buses.map((b) => [b.id, b]));
  const taken = new Map<string, string>();
  const fail = (path: string, message: string): never => {
    throw new ConfigError(config.source, path, message);
  };
  config.devices.forEach((device, index) => {
    const at = `/devices/${index}`;
    const loaded = collection.profiles.get(device.profile);
    if (!loaded) {
      const known = [...collection.profiles.keys()].join(', ');
      fail(`${at}/profile`, `device ${device.id}: unknown profile ${device.profile} (known: ${known})`);
      return;
    }
    const transport = loaded.profile.transport;
    const blocks = TRANSPORT_KEYS.filter((key) => device[key] !== undefined);
    if (blocks.length !== 1 || blocks[0] !== transport) {
      const extra = blocks.find((key) => key !== transport);
      fail(
        extra === undefined ? at : `${at}/${extra}`,
        `device ${device.id}: profile ${device.profile} uses transport ${transport}, so the device needs exactly one \`${transport}\` block${extra === undefined ? '' : `, not ${extra}`}`,
      );
    }
    const link = device.modbus ?? device.serial;
    if (link) {
      const kinds = device.modbus ? ['rtu', 'tcp'] : ['serial'];
      const bus = buses.get(link.bus);
      if (!bus) fail(`${at}/${transport}/bus`, `device ${device.id}: unknown bus ${link.bus} (declared: ${[...buses.keys()].join(', ') || 'none'})`);
      else if (!kinds.includes(bus.kind)) fail(`${at}/${transport}/bus`, `device ${device.id}: bus ${link.bus} is ${bus.kind}, expected ${kinds.join(' or ')}`);
      const key = device.modbus ? `${link.bus}/${device.modbus.unitId}` : link.bus;
      const other = taken.get(key);
      if (other !== undefined) {
        fail(`${at}/${transport}`, device.modbus ? `device ${device.id}: unit ${device.modbus.unitId} on ${link.bus} is already ${other}` : `device ${device.id}: serial bus ${link.bus} already carries ${other}`);
      }
      taken.set(key, device.id);
    }
    const overrides: RuleOverrideAt[] = [];
    config.rules.forEach((o, i) => {
      if (o.profile === device.profile) overrides.push({ value: o, path: `/rules/${i}` });
    });
    (device.rules ?? []).forEach((o, i) => overrides.push({ value: o, path: `${at}/rules/${i}` }));
    bound.set(device.id, { device, profile: loaded.profile, rules: applyRuleOverrides(loaded.profile, overrides, config.source) });
  });
  config.rules.forEach((o, i) => {
    if (!collection.profiles.has(o.profile)) fail(`/rules/${i}/profile`, `unknown profile ${o.profile}`);
  });
  config.actuators.forEach((a, i) => {
    const at = `/actuators/${i}`;
    const source = bound.get(a.when.device);
    if (!source) fail(`${at}/when/device`, `unknown device ${a.when.device} (devices: ${[...bound.keys()].join(', ')})`);
    else if (!(source.rules ?? source.profile.rules).some((r) => r.alarmType === a.when.alarmType)) {
      fail(`${at}/when/alarmType`, `device ${a.when.device} has no rule ${a.when.alarmType} (has: ${(source.rules ?? source.profile.rules).map((r) => r.alarmType).join(', ')})`);
    }
    const target = bound.get(a.target.device);
    if (!target) {
      fail(`${at}/target/device`, `unknown device ${a.target.device} (devices: ${[...bound.keys()].join(', ')})`);
      return;
    }
    const point = target.profile.points.find((p) => p.name === a.target.point);
    if (!point || !('access' in point) || point.access !== 'readwrite') {
      const writable = target.profile.points.filter((p) => 'access' in p && p.access === 'readwrite').map((p) => p.name);
      fail(`${at}/target/point`, `device ${a.target.device}: ${a.target.point} is not a writable point (writable: ${writable.join(', ') || 'none'})`);
    }
  });
  return bound;
}
