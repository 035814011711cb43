// gridwatch-cloud CLI. `serve` runs the cloud; `gateway add` registers a gateway in the same store.
// Flags override GRIDWATCH_* environment variables, which override the defaults.
import { Command, Option } from 'commander';
import { startCloud } from './cloud.ts';
import { DEFAULT_CONFIG, configFromEnv, envName, resolveConfig, type CloudConfig } from './config.ts';
import { addUser, findUser, UserError } from './auth/users.ts';
import { EnrollmentError, issueToken } from './enrollment/store.ts';
import { GatewayRegistry } from './gateways/registry.ts';
import { createLogger } from './log.ts';
import { openStore } from './store/open.ts';

type Flags = Partial<Record<keyof CloudConfig, string>>;

const FLAG_HELP: Record<keyof CloudConfig, [flag: string, help: string]> = {
  httpHost: ['--http-host <host>', 'interface for the API, console and socket.io'],
  httpPort: ['--http-port <port>', 'HTTP port (0 = any free port)'],
  mqttHost: ['--mqtt-host <host>', 'interface of the embedded MQTT broker'],
  mqttPort: ['--mqtt-port <port>', 'embedded MQTT broker port (0 = any free port)'],
  dataDir: ['--data-dir <dir>', 'data folder; PGlite lives in <dir>/pglite (memory:// = in memory)'],
  databaseUrl: ['--database-url <url>', 'PostgreSQL URL; replaces PGlite'],
  brokerUrl: ['--broker-url <url>', 'external MQTT broker; the embedded one is not started'],
  gatewayBrokerUrl: ['--gateway-broker-url <url>', 'broker URL handed to enrolling gateways, e.g. mqtts://mqtt.example.org:8883 (default: the one the cloud uses)'],
  ingestUsername: ['--ingest-username <name>', 'ingest login on the external broker'],
  ingestPassword: ['--ingest-password <secret>', 'ingest password on the external broker'],
  logLevel: ['--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
  deadlines: ['--deadlines <json>', 'deadlines per level in seconds, e.g. {"1":{"ackS":60,"onSiteS":300,"resolveS":3600}}'],
  autoCloseTypes: ['--auto-close-types <types>', "alarm types a device clear closes, comma-separated ('*' = all)"],
  tickMs: ['--tick-ms <ms>', 'deadline/webhook/heartbeat ticker period'],
  heartbeatTimeoutS: ['--heartbeat-timeout-s <s>', 'silent gateway → incident after this many seconds (0 = off)'],
  adminToken: ['--admin-token <token>', 'bearer token for admin endpoints (imports, consumers)'],
  emqxSecret: ['--emqx-secret <secret>', 'enables /api/v1/emqx/{auth,acl}; EMQX sends it in x-gridwatch-emqx-secret'],
  influxUrl: ['--influx-url <url>', 'InfluxDB v2 write API base URL (or VictoriaMetrics)'],
  influxToken: ['--influx-token <token>', 'InfluxDB token'],
  influxOrg: ['--influx-org <org>', 'InfluxDB organisation'],
  influxBucket: ['--influx-bucket <bucket>', 'InfluxDB bucket'],
  ingestShareGroup: ['--ingest-share-group <group>', 'MQTT v5 shared subscription group on an external broker (scale-out)'],
  capSender: ['--cap-sender <sender>', 'CAP 1.2 sender of rendered alerts'],
  leaseS: ['--lease-s <s>', 'default lease of a claimed dispatch message'],
  webhookMaxAttempts: ['--webhook-max-attempts <n>', 'webhook attempts before a message is dead-lettered'],
  webhookBackoffMs: ['--webhook-backoff-ms <ms>', 'first webhook retry delay (doubles each attempt)'],
  openAccess: ['--open-access <bool>', 'anonymous clients may read all incidents and act (demo); false in production'],
  sessionSecret: ['--session-secret <secret>', 'key signing console sessions (>= 32 chars; default: random, kept in the database)'],
  secureCookies: ['--secure-cookies <bool>', 'mark the session cookie Secure (console behind HTTPS)'],
};

const SERVE_KEYS = Object.keys(FLAG_HELP) as (keyof CloudConfig)[];

function addConfigOptions(command: Command, keys: (keyof CloudConfig)[]): Command {
  for (const key of keys) {
    const [flag, help] = FLAG_HELP[key];
    const fallback = DEFAULT_CONFIG[key];
    command.addOption(
      new Option(flag, `${help}${fallback === null || typeof fallback === 'object' ? '' : ` (default: ${String(fallback)})`}`).env(envName(key)),
    );
  }
  return command;
}

function configFrom(flags: Flags): CloudConfig {
  // commander already folds GRIDWATCH_* into flags; configFromEnv covers fields without a flag here.
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return resolveConfig({ ...configFromEnv(process.env), ...defined });
}

async function serve(flags: Flags): Promise<void> {
  const cloud = await startCloud(configFrom(flags));
  cloud.log.info({ httpUrl: cloud.httpUrl, mqttUrl: cloud.mqttUrl, backend: cloud.store.backend }, 'cloud ready');
  const shutdown = (signal: string): void => {
    cloud.log.info({ signal }, 'stopping');
    cloud.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function addGateway(flags: Flags & { id: string; site: string; secret: string; ifAbsent?: boolean }): Promise<void> {
  const config = configFrom({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, logLevel: flags.logLevel });
  const log = createLogger(config.logLevel);
  const store = await openStore(config, log);
  try {
    const registry = new GatewayRegistry(store);
    // Provisioning jobs (compose, Kubernetes) run on every start: a gateway already there is fine.
    if (flags.ifAbsent && (await registry.lookup(flags.id))) {
      log.info({ gatewayId: flags.id }, 'gateway already registered; left as it is');
      return;
    }
    const gateway = await registry.addGateway({ gatewayId: flags.id, site: flags.site, secret: flags.secret });
    log.info(gateway, 'gateway added');
  } finally {
    await store.close();
  }
}

async function enrollTokenCommand(flags: Flags & { gatewayId: string; site: string; ttlS?: string }): Promise<void> {
  const config = configFrom({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, logLevel: flags.logLevel });
  const log = createLogger(config.logLevel);
  const ttlS = flags.ttlS === undefined ? undefined : Number(flags.ttlS);
  const store = await openStore(config, log);
  try {
    const issued = await issueToken(store, new GatewayRegistry(store), { gatewayId: flags.gatewayId, site: flags.site, ...(ttlS === undefined ? {} : { ttlS }) });
    // The token is shown once (only its hash is stored): stdout, for the installer or a script.
    process.stdout.write(`${JSON.stringify(issued)}\n`);
    process.stderr.write(`on the gateway: gridwatch-edge enroll --token ${issued.token} --cloud <cloud URL> --config /etc/gridwatch/edge.yaml (valid until ${issued.expiresAt})\n`);
  } catch (err) {
    if (err instanceof EnrollmentError) throw new Error(`enroll-token: ${err.message}`);
    throw err;
  } finally {
    await store.close();
  }
}

interface UserFlags extends Flags {
  username: string;
  password: string;
  role: string;
  jurisdiction: string[];
  displayName?: string;
  ifAbsent?: boolean;
}

async function addUserCommand(flags: UserFlags): Promise<void> {
  const config = configFrom({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, logLevel: flags.logLevel });
  const log = createLogger(config.logLevel);
  const store = await openStore(config, log);
  try {
    if (flags.ifAbsent && (await findUser(store, flags.username))) {
      log.info({ username: flags.username }, 'user already exists; left as it is');
      return;
    }
    const user = await addUser(store, {
      username: flags.username,
      password: flags.password,
      role: flags.role,
      jurisdictions: flags.jurisdiction,
      ...(flags.displayName ? { displayName: flags.displayName } : {}),
    });
    log.info({ username: user.username, role: user.role, jurisdictions: user.jurisdictions }, 'user added');
  } catch (err) {
    if (err instanceof UserError) throw new Error(`user add: ${err.message}`);
    throw err;
  } finally {
    await store.close();
  }
}

const program = new Command('gridwatch-cloud').description('GridWatch cloud: MQTT ingest, incidents, API and console');

addConfigOptions(program.command('serve').description('run the cloud (embedded broker and PGlite by default)'), SERVE_KEYS).action(serve);

const gateway = program.command('gateway').description('manage gateway credentials');
addConfigOptions(
  gateway
    .command('add')
    .description('register a gateway (with PGlite, stop `serve` first: one process owns the data folder)')
    .requiredOption('--id <gatewayId>', 'gateway id, its MQTT username')
    .requiredOption('--site <site>', 'site the gateway belongs to')
    .requiredOption('--secret <secret>', 'gateway secret, its MQTT password (stored hashed)')
    .option('--if-absent', 'succeed without changes when the gateway is already registered'),
  ['dataDir', 'databaseUrl', 'logLevel'],
).action(addGateway);

addConfigOptions(
  program
    .command('enroll-token')
    .description('issue a one-time enrollment token for a gateway; prints {token, expiresAt} once (with PGlite, stop `serve` first, or use POST /api/v1/enrollment-tokens)')
    .requiredOption('--gateway-id <id>', 'gateway id the token enrolls (new, or existing: its secret is rotated)')
    .requiredOption('--site <site>', 'site the gateway belongs to')
    .option('--ttl-s <s>', 'validity in seconds (default 86400, at most 30 days)'),
  ['dataDir', 'databaseUrl', 'logLevel'],
).action(enrollTokenCommand);

const user = program.command('user').description('manage console users (staff, installers, admins)');
addConfigOptions(
  user
    .command('add')
    .description('create a console user, password stored as a scrypt hash (with PGlite, stop `serve` first)')
    .requiredOption('--username <name>', 'login name (a-z 0-9 . _ -)')
    .requiredOption('--password <password>', 'at least 8 characters')
    .requiredOption('--role <role>', 'dispatcher, community_staff, grid_worker, installer or admin')
    .requiredOption(
      '--jurisdiction <tier:area>',
      'district:FT, street:FT-S01, community:FT-C01, grid:FT-G01 or * (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--display-name <name>', 'name shown in the console and the audit trail')
    .option('--if-absent', 'succeed without changes when the user already exists'),
  ['dataDir', 'databaseUrl', 'logLevel'],
).action(addUserCommand);

program.parseAsync().catch((err: unknown) => {
  // The one boundary where start-up errors are reported.
  console.error(`gridwatch-cloud: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
