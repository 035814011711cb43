// Reads an edge config file: parse, check against the schema of the registered transports, apply
// defaults, resolve paths against the file, read the CA and the enrolled credentials. Every
// problem is a ConfigError naming the file and the JSON path.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { BUNDLED_PROFILES_DIR } from '@gridwatch/firmware-profiles';
import { ConfigError, schemaProblem } from './errors.ts';
import { CONFIG_VERSION, busSchemas, currentEdgeConfigSchema, type Credentials, type EdgeConfig, type EdgeConfigFile, type LogLevel } from './schema.ts';

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

/** Each bus against the schema of its own kind first, so an error names the real problem rather than "expected union value". */
function checkBuses(value: unknown, source: string): void {
  const buses = field(value, 'buses');
  if (!Array.isArray(buses)) return;
  const schemas = busSchemas();
  buses.forEach((bus: unknown, index) => {
    const kind = field(bus, 'kind');
    const schema = typeof kind === 'string' && Object.hasOwn(schemas, kind) ? schemas[kind] : undefined;
    if (!schema) throw new ConfigError(source, `/buses/${index}/kind`, `expected one of ${Object.keys(schemas).join(', ')}`);
    const problem = schemaProblem(schema, bus, `/buses/${index}`);
    if (problem) throw new ConfigError(source, problem.path, problem.message);
  });
}

function checkUnique(file: EdgeConfigFile, source: string): void {
  const seen = new Set<string>();
  file.devices.forEach((device, index) => {
    if (seen.has(device.id)) throw new ConfigError(source, `/devices/${index}/id`, `duplicate id ${device.id}`);
    seen.add(device.id);
  });
  const busIds = new Set<string>();
  file.buses.forEach((bus, index) => {
    if (busIds.has(bus.id)) throw new ConfigError(source, `/buses/${index}/id`, `duplicate bus id ${bus.id}`);
    busIds.add(bus.id);
  });
}

/** Validates the parsed file against the schema and applies its defaults. */
export function checkConfigFile(raw: unknown, source: string): EdgeConfigFile {
  const value: unknown = Value.Default(currentEdgeConfigSchema(), Value.Clone(raw));
  const version = field(value, 'version');
  if (version !== undefined && version !== CONFIG_VERSION) {
    throw new ConfigError(source, '/version', `unsupported config version ${JSON.stringify(version)} (expected ${CONFIG_VERSION})`);
  }
  checkBuses(value, source);
  const problem = schemaProblem(currentEdgeConfigSchema(), value);
  if (problem) throw new ConfigError(source, problem.path, problem.message);
  const file = value as EdgeConfigFile;
  checkUnique(file, source);
  return file;
}

function readCa(file: EdgeConfigFile, source: string, baseDir: string): string | undefined {
  if (file.cloud.ca === undefined) return undefined;
  try {
    return readFileSync(resolve(baseDir, file.cloud.ca), 'utf8');
  } catch (err) {
    throw new ConfigError(source, '/cloud/ca', `cannot read CA file (${(err as Error).message})`);
  }
}

/** The credential `gridwatch enroll` wrote, if any; a named file that cannot be read is an error. */
function readCredentials(file: EdgeConfigFile, credentialsFile: string, source: string): Credentials | undefined {
  let credentials: Credentials;
  try {
    credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Credentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file.cloud.credentialsFile === undefined) return undefined;
    throw new ConfigError(source, '/cloud/credentialsFile', `cannot read credentials (${(err as Error).message})`);
  }
  if (typeof credentials.username !== 'string' || typeof credentials.password !== 'string') {
    throw new ConfigError(source, '/cloud/credentialsFile', `${credentialsFile}: expected {username, password}`);
  }
  return credentials;
}

function resolveCloud(file: EdgeConfigFile, source: string, baseDir: string, dataDir: string): EdgeConfig['cloud'] {
  const { cloud, gateway } = file;
  const credentialsFile = cloud.credentialsFile === undefined ? resolve(dataDir, 'credentials.json') : resolve(baseDir, cloud.credentialsFile);
  const credentials = readCredentials(file, credentialsFile, source);
  const ca = readCa(file, source, baseDir) ?? credentials?.ca;
  const password = credentials?.password ?? cloud.password;
  if (password === undefined) throw new ConfigError(source, '/cloud/password', 'expected a password, or enroll the gateway first (gridwatch enroll --token …)');
  return {
    url: credentials?.url ?? cloud.url,
    username: credentials?.username ?? cloud.username ?? gateway.id,
    password,
    ...(ca === undefined ? {} : { ca }),
    rejectUnauthorized: cloud.rejectUnauthorized,
    resendAfterMs: cloud.resendAfterMs,
    ackTimeoutMs: cloud.ackTimeoutMs,
    reconnectPeriodMs: cloud.reconnectPeriodMs,
    maxReconnectPeriodMs: Math.max(cloud.maxReconnectPeriodMs, cloud.reconnectPeriodMs),
    credentialsFile,
  };
}

/**
 * Validates a parsed configuration, applies defaults and resolves relative paths against
 * `baseDir`. Throws a ConfigError naming `source` and the JSON path.
 */
export function resolveConfig(raw: unknown, source: string, baseDir: string): EdgeConfig {
  const file = checkConfigFile(raw, source);
  const dataDir = resolve(baseDir, file.dataDir);
  return {
    ...file,
    source,
    dataDir,
    profilesDir: file.profilesDir === undefined ? BUNDLED_PROFILES_DIR : resolve(baseDir, file.profilesDir),
    logLevel: (file.logLevel ?? 'info') as LogLevel,
    cloud: resolveCloud(file, source, baseDir, dataDir),
    rules: file.rules as EdgeConfig['rules'],
  };
}

/** Parses a `.yaml`/`.yml`/`.json` config file without validating it. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '/', `cannot read config file (${(err as Error).message})`);
  }
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(file, '/', `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${(err as Error).message})`);
  }
}

/** Reads and resolves a `.yaml`/`.yml`/`.json` config file. */
export function loadConfig(file: string): EdgeConfig {
  return resolveConfig(readConfigFile(file), file, dirname(resolve(file)));
}
