// Typed cloud configuration. One place holds the defaults so `serve`, tests and the demo agree.
// Anything from outside (CLI flags, GRIDWATCH_* env) goes through resolveConfig, which names the
// offending field instead of failing later at listen or connect time.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CloudConfig {
  /** Interface the HTTP API, console and socket.io listen on. */
  httpHost: string;
  /** 0 picks a free port; the chosen one is reported by `Cloud.httpPort`. */
  httpPort: number;
  /** Interface of the embedded MQTT broker (ignored when `brokerUrl` is set). */
  mqttHost: string;
  /** 0 picks a free port; the chosen one is reported by `Cloud.mqttPort`. */
  mqttPort: number;
  /** PGlite keeps its files in `${dataDir}/pglite`; `memory://` keeps everything in memory. */
  dataDir: string;
  /** PostgreSQL connection string; when set PGlite is not used. */
  databaseUrl: string | null;
  /** External broker (Mosquitto, EMQX); when set the embedded broker is not started. */
  brokerUrl: string | null;
  /** Credentials of the ingest client on an external broker. */
  ingestUsername: string | null;
  ingestPassword: string | null;
  logLevel: LogLevel;
}

export const DEFAULT_CONFIG: Readonly<CloudConfig> = Object.freeze({
  httpHost: '127.0.0.1',
  httpPort: 8080,
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  dataDir: './data',
  databaseUrl: null,
  brokerUrl: null,
  ingestUsername: null,
  ingestPassword: null,
  logLevel: 'info',
});

export const MEMORY_DATA_DIR = 'memory://';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function port(field: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`${field}: expected integer 0..65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`${field}: expected a non-empty string`);
  return value;
}

function optionalText(field: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  return text(field, value);
}

function url(field: string, value: unknown, protocols: readonly string[]): string | null {
  const s = optionalText(field, value);
  if (s === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    throw new ConfigError(`${field}: not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${field}: expected one of ${protocols.join(', ')} URLs, got ${parsed.protocol}`);
  }
  return s;
}

/** Fills defaults and validates; unknown keys are errors so a typo never silently uses a default. */
export function resolveConfig(input: Partial<Record<keyof CloudConfig, unknown>> = {}): CloudConfig {
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_CONFIG)) throw new ConfigError(`${key}: unknown configuration key`);
  }
  const pick = <K extends keyof CloudConfig>(key: K): unknown => (input[key] === undefined ? DEFAULT_CONFIG[key] : input[key]);
  const logLevel = pick('logLevel');
  if (typeof logLevel !== 'string' || !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`logLevel: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const config: CloudConfig = {
    httpHost: text('httpHost', pick('httpHost')),
    httpPort: port('httpPort', pick('httpPort')),
    mqttHost: text('mqttHost', pick('mqttHost')),
    mqttPort: port('mqttPort', pick('mqttPort')),
    dataDir: text('dataDir', pick('dataDir')),
    databaseUrl: url('databaseUrl', pick('databaseUrl'), ['postgres:', 'postgresql:']),
    brokerUrl: url('brokerUrl', pick('brokerUrl'), ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']),
    ingestUsername: optionalText('ingestUsername', pick('ingestUsername')),
    ingestPassword: optionalText('ingestPassword', pick('ingestPassword')),
    logLevel: logLevel as LogLevel,
  };
  if (config.brokerUrl && !config.ingestUsername) {
    throw new ConfigError('ingestUsername: required when brokerUrl is set (the ingest client logs in to the external broker)');
  }
  return config;
}

/** Environment variable for each field: GRIDWATCH_HTTP_PORT, GRIDWATCH_DATABASE_URL, … */
export function envName(key: keyof CloudConfig): string {
  return `GRIDWATCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function configFromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof CloudConfig, unknown>> {
  const out: Partial<Record<keyof CloudConfig, unknown>> = {};
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof CloudConfig)[]) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}
