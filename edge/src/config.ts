// Edge configuration: one versioned YAML or JSON file validated against this schema. The schema's
// descriptions are the reference; unknown keys are errors naming the file and the JSON path.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { DeviceId, GatewayId, SiteId } from '@gridwatch/protocol';
import { BUNDLED_PROFILES_DIR, type Profile, type ProfileCollection } from '@gridwatch/firmware-profiles';

export const CONFIG_VERSION = 1 as const;

const Secret = Type.String({ minLength: 1, maxLength: 256 });

export const DeviceConfigSchema = Type.Object(
  {
    id: DeviceId,
    profile: Type.String({ description: 'Id of a firmware profile, e.g. generic/smoke-mqtt' }),
    addressId: Type.Optional(Type.String({ maxLength: 64, description: 'Standard address id where the device is installed' })),
    mqtt: Type.Object(
      {
        username: Type.String({ minLength: 1, maxLength: 128, description: 'Username the device presents at CONNECT' }),
        password: Secret,
      },
      { additionalProperties: false, description: 'Credentials of a device speaking MQTT to the local broker' },
    ),
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
        password: Secret,
        ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the broker certificate' })),
        rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate (mqtts)' }),
        resendAfterMs: Type.Integer({ minimum: 100, maximum: 600000, default: 5000, description: 'Resend events not acked within this time' }),
        reconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000, description: 'Delay between reconnect attempts' }),
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
    devices: Type.Array(DeviceConfigSchema, { default: [] }),
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
  };
  local: { host: string; mqttPort: number; httpPort: number };
  devices: DeviceConfig[];
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

function uniqueBy(devices: DeviceConfig[], key: (d: DeviceConfig) => string, field: string, source: string): void {
  const seen = new Set<string>();
  devices.forEach((device, index) => {
    const value = key(device);
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
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    throw new ConfigError(source, first?.path || '/', first?.message ?? 'invalid');
  }
  const parsed: Static<typeof EdgeConfigSchema> = value;
  uniqueBy(parsed.devices, (d) => d.id, 'id', source);
  uniqueBy(parsed.devices, (d) => d.mqtt.username, 'mqtt/username', source);
  let ca: string | undefined;
  if (parsed.cloud.ca !== undefined) {
    try {
      ca = readFileSync(resolve(baseDir, parsed.cloud.ca), 'utf8');
    } catch (err) {
      throw new ConfigError(source, '/cloud/ca', `cannot read CA file (${(err as Error).message})`);
    }
  }
  return {
    source,
    version: CONFIG_VERSION,
    gateway: parsed.gateway,
    dataDir: resolve(baseDir, parsed.dataDir),
    profilesDir: parsed.profilesDir === undefined ? BUNDLED_PROFILES_DIR : resolve(baseDir, parsed.profilesDir),
    logLevel: (parsed.logLevel ?? 'info') as LogLevel,
    cloud: {
      url: parsed.cloud.url,
      username: parsed.cloud.username ?? parsed.gateway.id,
      password: parsed.cloud.password,
      ...(ca === undefined ? {} : { ca }),
      rejectUnauthorized: parsed.cloud.rejectUnauthorized,
      resendAfterMs: parsed.cloud.resendAfterMs,
      reconnectPeriodMs: parsed.cloud.reconnectPeriodMs,
    },
    local: parsed.local,
    devices: parsed.devices,
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
}

/** Pairs each device with its profile; a missing profile or a transport mismatch is a start-up error. */
export function bindDevices(config: EdgeConfig, collection: ProfileCollection): Map<string, BoundDevice> {
  const bound = new Map<string, BoundDevice>();
  config.devices.forEach((device, index) => {
    const loaded = collection.profiles.get(device.profile);
    if (!loaded) {
      const known = [...collection.profiles.keys()].join(', ');
      throw new ConfigError(config.source, `/devices/${index}/profile`, `device ${device.id}: unknown profile ${device.profile} (known: ${known})`);
    }
    // The device's connection block must match the profile's transport; only mqtt exists today.
    if (loaded.profile.transport !== 'mqtt') {
      throw new ConfigError(
        config.source,
        `/devices/${index}/mqtt`,
        `device ${device.id}: profile ${device.profile} uses transport ${loaded.profile.transport}, not mqtt`,
      );
    }
    bound.set(device.id, { device, profile: loaded.profile });
  });
  return bound;
}
