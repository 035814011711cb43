// `gridwatch enroll`: a one-time enrollment token → this gateway's own MQTT credential, written to
// cloud.credentialsFile (mode 0600) for the agent to read at its next start.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, readConfigFile, resolveConfig, type Credentials, type EdgeConfig } from '../config/index.ts';
import type { Common } from './command.ts';
import { CliError, emit, EXIT } from './output.ts';

export interface EnrollFlags extends Common {
  token?: string;
  cloud?: string;
  ca?: string;
}

interface EnrollAnswer {
  gatewayId: string;
  site: string;
  username: string;
  password: string;
  brokerUrl?: string;
}

const LOOPBACK = /^(localhost|127\.[0-9.]+|\[::1\])$/i;
const CLOUD_URL_HINT = 'pass the cloud HTTP(S) URL, e.g. --cloud https://gridwatch.example.org';

/**
 * The config as the agent will read it, but before it has a password (that is what enrollment
 * gets): everything else is validated as at start-up.
 */
function configForEnroll(file: string): EdgeConfig {
  try {
    const raw = readConfigFile(file);
    const doc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const cloud = (typeof doc.cloud === 'object' && doc.cloud !== null ? doc.cloud : {}) as Record<string, unknown>;
    return resolveConfig({ ...doc, cloud: { ...cloud, password: cloud.password ?? 'enrolling' } }, file, dirname(resolve(file)));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage, `fix the value at the path named above (check with: gridwatch check -c ${file})`);
    throw err;
  }
}

function endpointOf(o: EnrollFlags): URL {
  const cloudUrl = o.cloud ?? process.env.GRIDWATCH_CLOUD_URL;
  if (!cloudUrl) throw new CliError('no cloud URL', EXIT.usage, 'pass --cloud https://… (or set GRIDWATCH_CLOUD_URL)');
  let endpoint: URL;
  try {
    endpoint = new URL('/api/v1/enroll', cloudUrl);
  } catch {
    throw new CliError(`--cloud: not a URL: ${cloudUrl}`, EXIT.usage, CLOUD_URL_HINT);
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new CliError(`--cloud: expected an http(s) URL, got ${endpoint.protocol}`, EXIT.usage, CLOUD_URL_HINT);
  return endpoint;
}

function readCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--ca: cannot read ${file} (${(err as Error).message})`, EXIT.usage, 'pass the PEM file of the CA that signed the broker certificate');
  }
}

async function requestCredential(endpoint: URL, token: string, config: EdgeConfig, configFile: string): Promise<EnrollAnswer> {
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
    throw new CliError(`cannot reach the cloud at ${endpoint.origin} (${(err as Error).message})`, EXIT.unreachable, 'check --cloud and the gateway’s network, then run enroll again (the token is not spent)');
  }
  const body = (await res.json().catch(() => ({}))) as Partial<EnrollAnswer> & { error?: string };
  if (res.status === 401 || res.status === 410) {
    throw new CliError(`the cloud refused the token: ${body.error ?? res.status}`, EXIT.usage, 'ask the cloud admin for a new enrollment token (tokens work once, and only until they expire)');
  }
  if (res.status >= 400 && res.status < 500) {
    throw new CliError(`the cloud refused the enrollment: ${body.error ?? res.status}`, EXIT.usage, `check gateway.id/site in ${configFile} match the token, or ask for a token for ${config.gateway.id} (site ${config.gateway.site})`);
  }
  if (!res.ok || typeof body.username !== 'string' || typeof body.password !== 'string') {
    throw new CliError(`the cloud answered ${res.status}${body.error ? `: ${body.error}` : ''}`, EXIT.unreachable, `try again later; check the cloud health at ${new URL('/healthz', endpoint).href}`);
  }
  if (body.gatewayId !== config.gateway.id || body.site !== config.gateway.site) {
    throw new CliError(`the token enrolled gateway ${String(body.gatewayId)} (site ${String(body.site)}), but ${configFile} is gateway ${config.gateway.id} (site ${config.gateway.site})`, EXIT.usage, 'set gateway.id and gateway.site in the config to those values, then ask for a new token');
  }
  return body as EnrollAnswer;
}

/**
 * The broker URL the cloud names, unless it is a loopback address while the cloud is elsewhere
 * (a cloud without gatewayBrokerUrl configured names its own view): then cloud.url stays in force.
 */
function brokerUrlOf(answer: EnrollAnswer, endpoint: URL, config: EdgeConfig): { url?: string; note?: string } {
  if (typeof answer.brokerUrl !== 'string' || !/^mqtts?:\/\/\S+$/.test(answer.brokerUrl)) return {};
  if (LOOPBACK.test(new URL(answer.brokerUrl).hostname) && !LOOPBACK.test(endpoint.hostname)) {
    return { note: `the cloud named a loopback broker (${answer.brokerUrl}); keeping cloud.url ${config.cloud.url} from the config` };
  }
  return { url: answer.brokerUrl };
}

function writeCredentials(file: string, credentials: Credentials): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    throw new CliError(`enrolled, but cannot write ${file} (${(err as Error).message}); the token is spent`, EXIT.failed, 'fix the permissions of the data folder (run as the agent’s user or root), then ask for a new token');
  }
}

export async function enroll(o: EnrollFlags): Promise<void> {
  const token = o.token ?? process.env.GRIDWATCH_ENROLL_TOKEN;
  if (!token) throw new CliError('no enrollment token', EXIT.usage, 'pass --token <token> from the cloud admin (gridwatch-cloud enroll-token, or POST /api/v1/enrollment-tokens)');
  const endpoint = endpointOf(o);
  const ca = readCa(o.ca);
  const config = configForEnroll(o.config);
  const answer = await requestCredential(endpoint, token, config, o.config);
  const { url, note } = brokerUrlOf(answer, endpoint, config);
  const file = config.cloud.credentialsFile;
  writeCredentials(file, { username: answer.username, password: answer.password, ...(url === undefined ? {} : { url }), ...(ca === undefined ? {} : { ca }) });
  const next = `restart the agent to connect with the new credential: systemctl restart gridwatch-edge.service (or gridwatch run -c ${o.config}); then gridwatch check -c ${o.config}`;
  const brokerUrl = url ?? config.cloud.url;
  emit(o, { ok: true, gatewayId: answer.gatewayId, site: answer.site, username: answer.username, brokerUrl, credentialsFile: file, next, ...(note ? { note } : {}) }, () =>
    [
      `enrolled gateway ${answer.gatewayId} (site ${answer.site}) as MQTT user ${answer.username}`,
      `credentials written to ${file} (mode 0600); broker ${brokerUrl}`,
      ...(note ? [`note: ${note}`] : []),
      `next: ${next}`,
    ].join('\n'),
  );
}
