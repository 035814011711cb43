// Typed cloud configuration. One place holds the defaults so `serve`, tests and the demo agree.
// Anything from outside (CLI flags, GRIDWATCH_* env) goes through resolveConfig, which names the
// offending field instead of failing later at listen or connect time.
import { DEFAULT_ACK_POLICY, parseAckPolicy, type AckPolicy } from './incidents/ack-policy.ts';
import { DEFAULT_ALARM_POLICY, parseAlarmPolicy, type AlarmPolicy, type AlarmPolicyInput } from './incidents/policy.ts';
import { DEFAULT_DEADLINES, type DeadlineTable, type LevelDeadlines } from './incidents/deadline-table.ts';
import { MEMORY_DATA_DIR } from './store/pglite.ts';
export { DEFAULT_DEADLINES, type DeadlineTable, type LevelDeadlines };

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
  /**
   * The broker URL gateways use (e.g. mqtts://mqtt.example.org:8883), handed to a gateway when it
   * enrolls; null = the URL the cloud itself uses (the embedded broker's, or brokerUrl).
   */
  gatewayBrokerUrl: string | null;
  /** Credentials of the ingest client on an external broker. */
  ingestUsername: string | null;
  ingestPassword: string | null;
  logLevel: LogLevel;
  /** Deadlines per incident level (1 = most urgent), in seconds; a missed one escalates one tier. */
  deadlines: DeadlineTable;
  /** Alarm types whose device `clear` closes the incident by itself ('*' = every type). */
  autoCloseTypes: string[];
  /**
   * Per level / alarm type: whether an alarm that clears by itself stays open as "returned,
   * unacknowledged" until staff acknowledge it (ISA-18.2; default levels 1–2). Object or JSON text:
   * { "levels": { "3": true }, "types": { "tamper": false } }.
   */
  ackPolicy: AckPolicy;
  /** Alarm management policy (chattering, floods, correlation, verification, maintenance deadlines): object, JSON text or a JSON file path (docs/ALARM-MANAGEMENT.md). */
  alarmPolicy: AlarmPolicy;
  /** A gateway offline (last will, or silent past heartbeatTimeoutS) for longer than this opens an incident; 0 = at once. */
  gatewayOfflineHoldOffS: number;
  /** Flap suppression: the offline incident closes once the gateway has been back this long; 0 = at once. */
  gatewayRestoreS: number;
  /** How often each process's ticker claims due deadlines and webhook deliveries. */
  tickMs: number;
  /** A gateway silent this long (no status, event or telemetry) becomes an incident; 0 = off. */
  heartbeatTimeoutS: number;
  /** Bearer token for admin endpoints (address/unit/rule import, consumers); null = no check. */
  adminToken: string | null;
  /** Shared secret EMQX sends in `x-gridwatch-emqx-secret` to the auth/ACL endpoints; null = endpoints off. */
  emqxSecret: string | null;
  /** InfluxDB v2 (or compatible) URL; when null the latest value per point is kept in memory only. */
  influxUrl: string | null;
  influxToken: string | null;
  influxOrg: string;
  influxBucket: string;
  /**
   * Write API of the TSDB: 'v2' = /api/v2/write (InfluxDB 2/3, 1.8+, VictoriaMetrics), 'v1' =
   * /write?db=<influxBucket> (InfluxDB 1.x before 1.8); with v1 influxToken is `user:password`.
   */
  influxApi: 'v2' | 'v1';
  /** Worker threads that decode and write telemetry off ingest's event loop (0 = on it). */
  telemetryWorkers: number;
  /** Linux nice value of those threads: above 0 the host's scheduler serves alarms (main thread) first. */
  telemetryWorkerNice: number;
  /**
   * Telemetry messages of one gateway the embedded broker reads and holds (PUBACK withheld) while
   * ingest has no room, so the gateway's alarms behind them are still read; beyond it the broker
   * stops reading the connection. 0 = stop at the first (alarms wait up to the 20 s hold).
   */
  mqttTelemetryHeldPerGateway: number;
  /** MQTT v5 shared-subscription group for ingest on an external broker (`$share/<group>/…`); null = plain. */
  ingestShareGroup: string | null;
  /** CAP 1.2 `sender` of rendered alerts. */
  capSender: string;
  /** Shift starts ("HH:MM", wall clock in shiftTimeZone): the handover summary covers the time since the latest. */
  shiftStarts: string[];
  /** IANA time zone of shiftStarts. */
  shiftTimeZone: string;
  /** Dispatch: default lease of a claimed message, webhook attempts before dead-lettering, first back-off. */
  leaseS: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  /**
   * Anonymous clients may read every incident, follow socket.io and post actions (the one-command
   * demo and the walking-skeleton clients). Logged-in users are scoped either way. Set false in
   * production: then reads need a session or a consumer key.
   */
  openAccess: boolean;
  /** Key that signs console session tokens; null = a random key kept in the database. */
  sessionSecret: string | null;
  /** Mark the session cookie Secure (set when the console is served over HTTPS). */
  secureCookies: boolean;
  /**
   * Key of the HMAC-SHA-256 hash of gateway secrets (>= 32 chars; from a file or env, never the
   * database it protects); null = a random key kept in the database (demo, single installs).
   */
  gatewayPepper: string | null;
  /** MQTT over TLS port of the embedded broker (needs tlsCert and tlsKey); null = no TLS listener. */
  mqttsPort: number | null;
  /** PEM files of the broker's TLS certificate chain and key (`gridwatch-cloud certs` makes them). */
  tlsCert: string | null;
  tlsKey: string | null;
  /** Embedded broker limits before authentication (see protocol/src/mqtt-limits.ts). */
  mqttConnectTimeoutMs: number;
  mqttMaxPendingPerAddress: number;
  mqttMaxPacketBytes: number;
  /** MQTT authentication failures per client address before exponential back-off starts. */
  mqttFailuresBeforeBackoff: number;
  mqttBackoffBaseMs: number;
  /** Console logins: failures per username and per client address within loginWindowS, then 429. */
  loginMaxFailuresPerUser: number;
  loginMaxFailuresPerAddress: number;
  loginWindowS: number;
  /** Human password hashes (scrypt 128 MiB) running at once, and waiting at most; beyond: 503. */
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  /** Bearer token for /metrics when httpHost is not loopback; null = the admin token. */
  metricsToken: string | null;
  /**
   * Mosquitto's dynamic-security admin login on brokerUrl: when set, the cloud manages gateway
   * credentials, client ids and topic rules in Mosquitto (broker/dynsec.ts).
   */
  dynsecUsername: string | null;
  dynsecPassword: string | null;
  /**
   * EMQX 5 management API (e.g. http://emqx:18083) and an API key/secret: a rotated, disabled or
   * removed gateway's open EMQX session is closed through it (gateways/emqx-sessions.ts); null = not.
   */
  emqxApiUrl: string | null;
  emqxApiKey: string | null;
  emqxApiSecret: string | null;
  /**
   * An event from a gateway with no allowed community is refused (`unplaced_gateway`) instead of
   * trusting the address it names (gateways/placement.ts). null = on when httpHost is not loopback
   * (placementRequired below).
   */
  requirePlacement: boolean | null;
  /**
   * map.tiles: the console map's tile layer (docs/DESIGN.md "Map": 天地图 and 高德 templates);
   * null = no tile server, the console draws the plain building-dot view.
   */
  mapTiles: MapTiles | null;
}

/** A Leaflet URL template ({z}, {x}, {y}), its attribution and its deepest zoom level. */
export interface MapTiles {
  url: string;
  attribution: string;
  maxZoom: number;
}


/** What callers may pass to startCloud/resolveConfig: every field optional, deadlines per level partial. */
export type CloudConfigInput = Partial<Omit<CloudConfig, 'deadlines' | 'ackPolicy' | 'alarmPolicy'>> & {
  alarmPolicy?: AlarmPolicyInput | string;
  deadlines?: Partial<Record<1 | 2 | 3 | 4 | 5, Partial<LevelDeadlines>>> | string;
  ackPolicy?: { levels?: Partial<Record<1 | 2 | 3 | 4 | 5, boolean>>; types?: Record<string, boolean> } | string;
};


export const DEFAULT_CONFIG: Readonly<CloudConfig> = Object.freeze({
  httpHost: '127.0.0.1',
  httpPort: 8080,
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  dataDir: './data',
  databaseUrl: null,
  brokerUrl: null,
  gatewayBrokerUrl: null,
  ingestUsername: null,
  ingestPassword: null,
  logLevel: 'info',
  deadlines: DEFAULT_DEADLINES,
  autoCloseTypes: ['*'],
  ackPolicy: DEFAULT_ACK_POLICY,
  alarmPolicy: DEFAULT_ALARM_POLICY,
  gatewayOfflineHoldOffS: 60,
  gatewayRestoreS: 10,
  tickMs: 1000,
  heartbeatTimeoutS: 0,
  adminToken: null,
  emqxSecret: null,
  influxUrl: null,
  influxToken: null,
  influxOrg: 'gridwatch',
  influxBucket: 'gridwatch',
  influxApi: 'v2',
  telemetryWorkers: 1,
  telemetryWorkerNice: 10,
  mqttTelemetryHeldPerGateway: 2,
  ingestShareGroup: null,
  capSender: 'gridwatch@localhost',
  shiftStarts: ['08:00', '20:00'],
  shiftTimeZone: 'Asia/Shanghai',
  leaseS: 30,
  webhookMaxAttempts: 8,
  webhookBackoffMs: 1000,
  openAccess: true,
  sessionSecret: null,
  secureCookies: false,
  gatewayPepper: null,
  mqttsPort: null,
  tlsCert: null,
  tlsKey: null,
  mqttConnectTimeoutMs: 10_000,
  mqttMaxPendingPerAddress: 256,
  mqttMaxPacketBytes: 1024 * 1024 + 64 * 1024,
  mqttFailuresBeforeBackoff: 10,
  mqttBackoffBaseMs: 1000,
  loginMaxFailuresPerUser: 10,
  loginMaxFailuresPerAddress: 50,
  loginWindowS: 900,
  passwordHashConcurrency: 2,
  passwordHashQueue: 16,
  metricsToken: null,
  dynsecUsername: null,
  dynsecPassword: null,
  emqxApiUrl: null,
  emqxApiKey: null,
  emqxApiSecret: null,
  requirePlacement: null,
  mapTiles: null,
});

export { MEMORY_DATA_DIR };

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

function integer(field: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${field}: expected integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function seconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(`${field}: expected seconds > 0`);
  return value;
}

/** Accepts a partial table (only the levels to change) as an object or JSON text. */
function deadlines(value: unknown): DeadlineTable {
  let input = value;
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input) as unknown;
    } catch {
      throw new ConfigError('deadlines: not JSON');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('deadlines: expected an object keyed by level 1..5');
  const table = structuredClone(DEFAULT_DEADLINES) as DeadlineTable;
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (!/^[1-5]$/.test(key)) throw new ConfigError(`deadlines.${key}: expected level 1..5`);
    if (typeof raw !== 'object' || raw === null) throw new ConfigError(`deadlines.${key}: expected { ackS, onSiteS, resolveS }`);
    const level = Number(key) as keyof DeadlineTable;
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      if (name !== 'ackS' && name !== 'onSiteS' && name !== 'resolveS') throw new ConfigError(`deadlines.${key}.${name}: unknown key`);
      table[level][name] = seconds(`deadlines.${key}.${name}`, v);
    }
  }
  return table;
}

function typeList(field: string, value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && (t === '*' || /^[a-z][a-z0-9_]{0,63}$/.test(t)))) {
    throw new ConfigError(`${field}: expected alarm types (or '*'), comma-separated`);
  }
  return list as string[];
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new ConfigError(`${field}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

function ackPolicy(value: unknown): AckPolicy {
  try {
    return parseAckPolicy(value);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function alarmPolicy(value: unknown): AlarmPolicy {
  try {
    return parseAlarmPolicy(value);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** An object, JSON text of one, or a bare URL template (absolute http(s), or a path on the cloud). */
function mapTiles(value: unknown): MapTiles | null {
  if (value === null || value === undefined || value === '') return null;
  let input: unknown = value;
  if (typeof input === 'string') {
    try {
      input = input.trim().startsWith('{') ? (JSON.parse(input) as unknown) : { url: input.trim() };
    } catch {
      throw new ConfigError('mapTiles: not JSON');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('mapTiles: expected { url, attribution?, maxZoom? } or a URL template');
  const { url: template, attribution = '', maxZoom = 18, ...rest } = input as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new ConfigError(`mapTiles.${unknownKey}: unknown key`);
  if (typeof template !== 'string' || !['{z}', '{x}', '{y}'].every((p) => template.includes(p))) throw new ConfigError('mapTiles.url: expected a URL template with {z}, {x} and {y}');
  // {s} would rotate over Leaflet's a/b/c, which are no host of 天地图 (t0–t7) or 高德 (webrd01–04), and widen the CSP.
  if (template.includes('{s}')) throw new ConfigError('mapTiles.url: {s} is not supported, name one host (e.g. t0.tianditu.gov.cn, webrd01.is.autonavi.com)');
  const sample = template.replace(/\{[a-z]+\}/g, '0');
  if (!/^https?:$/.test(URL.canParse(sample) ? new URL(sample).protocol : sample.startsWith('/') ? 'http:' : '')) throw new ConfigError('mapTiles.url: expected an http(s) URL or a path starting with /');
  if (typeof attribution !== 'string') throw new ConfigError('mapTiles.attribution: expected text');
  return { url: template, attribution, maxZoom: integer('mapTiles.maxZoom', maxZoom, 1, 22) };
}

function telemetryTuning(workers: unknown, nice: unknown, held: unknown): Pick<CloudConfig, 'telemetryWorkers' | 'telemetryWorkerNice' | 'mqttTelemetryHeldPerGateway'> {
  return {
    telemetryWorkers: integer('telemetryWorkers', workers, 0, 8),
    telemetryWorkerNice: integer('telemetryWorkerNice', nice, 0, 19),
    mqttTelemetryHeldPerGateway: integer('mqttTelemetryHeldPerGateway', held, 0, 64),
  };
}

function shiftClock(starts: unknown, zone: unknown): Pick<CloudConfig, 'shiftStarts' | 'shiftTimeZone'> {
  return { shiftStarts: shiftStarts(starts), shiftTimeZone: timeZone('shiftTimeZone', zone) };
}

function shiftStarts(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(v))) {
    throw new ConfigError('shiftStarts: expected one or more "HH:MM" times, e.g. ["08:00", "20:00"]');
  }
  return list as string[];
}

function timeZone(field: string, value: unknown): string {
  const zone = text(field, value);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError(`${field}: ${zone} is not an IANA time zone (e.g. Asia/Shanghai)`);
  }
  return zone;
}

/** The origin the console loads map tiles from (its CSP img-src), or null for tiles on the cloud itself. */
export function mapTileOrigin(tiles: MapTiles | null): string | null {
  if (tiles === null) return null;
  const sample = tiles.url.replace(/\{[a-z]+\}/g, '0');
  return URL.canParse(sample) ? new URL(sample).origin : null;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${field}: expected true or false`);
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
    gatewayBrokerUrl: url('gatewayBrokerUrl', pick('gatewayBrokerUrl'), ['mqtt:', 'mqtts:']),
    ingestUsername: optionalText('ingestUsername', pick('ingestUsername')),
    ingestPassword: optionalText('ingestPassword', pick('ingestPassword')),
    logLevel: logLevel as LogLevel,
    deadlines: deadlines(pick('deadlines')),
    autoCloseTypes: typeList('autoCloseTypes', pick('autoCloseTypes')),
    ackPolicy: ackPolicy(pick('ackPolicy')),
    alarmPolicy: input.alarmPolicy === undefined ? DEFAULT_ALARM_POLICY : alarmPolicy(input.alarmPolicy),
    gatewayOfflineHoldOffS: integer('gatewayOfflineHoldOffS', pick('gatewayOfflineHoldOffS'), 0, 86_400),
    gatewayRestoreS: integer('gatewayRestoreS', pick('gatewayRestoreS'), 0, 86_400),
    tickMs: integer('tickMs', pick('tickMs'), 20, 60_000),
    heartbeatTimeoutS: integer('heartbeatTimeoutS', pick('heartbeatTimeoutS'), 0, 86_400),
    adminToken: optionalText('adminToken', pick('adminToken')),
    emqxSecret: optionalText('emqxSecret', pick('emqxSecret')),
    influxUrl: url('influxUrl', pick('influxUrl'), ['http:', 'https:']),
    influxToken: optionalText('influxToken', pick('influxToken')),
    influxOrg: text('influxOrg', pick('influxOrg')),
    influxBucket: text('influxBucket', pick('influxBucket')),
    influxApi: oneOf('influxApi', pick('influxApi'), ['v2', 'v1'] as const),
    ...telemetryTuning(pick('telemetryWorkers'), pick('telemetryWorkerNice'), pick('mqttTelemetryHeldPerGateway')),
    ingestShareGroup: optionalText('ingestShareGroup', pick('ingestShareGroup')),
    capSender: text('capSender', pick('capSender')),
    ...shiftClock(pick('shiftStarts'), pick('shiftTimeZone')),
    leaseS: integer('leaseS', pick('leaseS'), 1, 3600),
    webhookMaxAttempts: integer('webhookMaxAttempts', pick('webhookMaxAttempts'), 1, 100),
    webhookBackoffMs: integer('webhookBackoffMs', pick('webhookBackoffMs'), 10, 3_600_000),
    openAccess: bool('openAccess', pick('openAccess')),
    sessionSecret: optionalText('sessionSecret', pick('sessionSecret')),
    secureCookies: bool('secureCookies', pick('secureCookies')),
    gatewayPepper: optionalText('gatewayPepper', pick('gatewayPepper')),
    mqttsPort: pick('mqttsPort') === null ? null : port('mqttsPort', pick('mqttsPort')),
    tlsCert: optionalText('tlsCert', pick('tlsCert')),
    tlsKey: optionalText('tlsKey', pick('tlsKey')),
    mqttConnectTimeoutMs: integer('mqttConnectTimeoutMs', pick('mqttConnectTimeoutMs'), 100, 300_000),
    mqttMaxPendingPerAddress: integer('mqttMaxPendingPerAddress', pick('mqttMaxPendingPerAddress'), 1, 1_000_000),
    mqttMaxPacketBytes: integer('mqttMaxPacketBytes', pick('mqttMaxPacketBytes'), 1024, 256 * 1024 * 1024),
    mqttFailuresBeforeBackoff: integer('mqttFailuresBeforeBackoff', pick('mqttFailuresBeforeBackoff'), 1, 1_000_000),
    mqttBackoffBaseMs: integer('mqttBackoffBaseMs', pick('mqttBackoffBaseMs'), 10, 3_600_000),
    loginMaxFailuresPerUser: integer('loginMaxFailuresPerUser', pick('loginMaxFailuresPerUser'), 1, 1_000_000),
    loginMaxFailuresPerAddress: integer('loginMaxFailuresPerAddress', pick('loginMaxFailuresPerAddress'), 1, 1_000_000),
    loginWindowS: integer('loginWindowS', pick('loginWindowS'), 1, 86_400),
    passwordHashConcurrency: integer('passwordHashConcurrency', pick('passwordHashConcurrency'), 1, 64),
    passwordHashQueue: integer('passwordHashQueue', pick('passwordHashQueue'), 0, 10_000),
    metricsToken: optionalText('metricsToken', pick('metricsToken')),
    dynsecUsername: optionalText('dynsecUsername', pick('dynsecUsername')),
    dynsecPassword: optionalText('dynsecPassword', pick('dynsecPassword')),
    emqxApiUrl: url('emqxApiUrl', pick('emqxApiUrl'), ['http:', 'https:']),
    emqxApiKey: optionalText('emqxApiKey', pick('emqxApiKey')),
    emqxApiSecret: optionalText('emqxApiSecret', pick('emqxApiSecret')),
    requirePlacement: pick('requirePlacement') === null ? null : bool('requirePlacement', pick('requirePlacement')),
    mapTiles: mapTiles(pick('mapTiles')),
  };
  checkBrokerLogins(config);
  if (config.gatewayPepper !== null && config.gatewayPepper.length < 32) throw new ConfigError('gatewayPepper: at least 32 characters');
  if (config.mqttsPort !== null && (config.tlsCert === null || config.tlsKey === null)) {
    throw new ConfigError('mqttsPort: needs tlsCert and tlsKey (create them with `gridwatch-cloud certs`)');
  }
  if (config.sessionSecret !== null && config.sessionSecret.length < 32) throw new ConfigError('sessionSecret: at least 32 characters');
  if (config.ingestShareGroup !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(config.ingestShareGroup)) {
    throw new ConfigError('ingestShareGroup: expected 1-64 of A-Z a-z 0-9 _ -');
  }
  return config;
}

/** The external broker's logins come in complete sets. */
function checkBrokerLogins(config: CloudConfig): void {
  if (config.dynsecUsername !== null && (config.brokerUrl === null || config.dynsecPassword === null)) {
    throw new ConfigError('dynsecUsername: needs brokerUrl (the Mosquitto broker) and dynsecPassword');
  }
  if (config.emqxApiUrl !== null && (config.emqxApiKey === null || config.emqxApiSecret === null)) {
    throw new ConfigError('emqxApiUrl: needs emqxApiKey and emqxApiSecret (an EMQX API key, System → API Keys)');
  }
  if (config.brokerUrl && !config.ingestUsername) {
    throw new ConfigError('ingestUsername: required when brokerUrl is set (the ingest client logs in to the external broker)');
  }
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

/** Secrets that may come from a file (`--<flag>-file`, GRIDWATCH_<KEY>_FILE) instead of argv. */
export const SECRET_KEYS = ['adminToken', 'emqxSecret', 'emqxApiSecret', 'ingestPassword', 'influxToken', 'sessionSecret', 'gatewayPepper', 'metricsToken', 'dynsecPassword'] as const satisfies readonly (keyof CloudConfig)[];

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why this configuration must not serve, or null. Reachable from the network (httpHost not
 * loopback) the cloud needs open access off and an admin token; the loopback demo needs neither.
 */
export function exposureProblem(config: CloudConfig): string | null {
  if (isLoopback(config.httpHost)) return null;
  if (config.openAccess) {
    return `httpHost ${config.httpHost} is reachable from the network with open access on (anyone could read and act on incidents): pass --open-access false (GRIDWATCH_OPEN_ACCESS=false), or bind --http-host 127.0.0.1`;
  }
  if (config.adminToken === null) {
    return `httpHost ${config.httpHost} is reachable from the network without an admin token: pass --admin-token-file <file> (or set GRIDWATCH_ADMIN_TOKEN / GRIDWATCH_ADMIN_TOKEN_FILE)`;
  }
  return null;
}

/** Whether events of a gateway with no allowed community are refused: as configured, else off loopback. */
export function placementRequired(config: Pick<CloudConfig, 'requirePlacement' | 'httpHost'>): boolean {
  return config.requirePlacement ?? !isLoopback(config.httpHost);
}
