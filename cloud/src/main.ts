// gridwatch-cloud CLI. `serve` runs the cloud; `gateway …` manages gateway credentials and their
// lifecycle; `user add` creates console users; `certs` makes a CA and a broker certificate.
// Flags override GRIDWATCH_* environment variables, which override the defaults. Secrets may also
// come from files (`--admin-token-file`, GRIDWATCH_ADMIN_TOKEN_FILE); on argv they print a warning.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { startCloud } from './cloud.ts';
import { DEFAULT_CONFIG, SECRET_KEYS, configFromEnv, envName, exposureProblem, resolveConfig, type CloudConfig } from './config.ts';
import { argvSecretWarnings, fileEnvOf, fileFlagOf, secretsFromFiles, type SecretKey } from './auth/secret-sources.ts';
import { addUser, findUser, UserError } from './auth/users.ts';
import { addUserViaApi, runningCloudApi } from './auth/remote-users.ts';
import { createCertificates } from './broker/certs.ts';
import { startCliDynsec } from './broker/dynsec.ts';
import { EnrollmentError, issueToken } from './enrollment/store.ts';
import { allowCommunities, getPlacement, placeDevice, PlacementError } from './gateways/placement.ts';
import { GatewayError, GatewayRegistry, type Lifecycle } from './gateways/registry.ts';
import { createLogger } from './log.ts';
import { openStore } from './store/open.ts';
import { registerReplayCommand } from './replay/command.ts';
import type { Store } from './store/store.ts';

/** Exit code of a configuration that must not run (e.g. exposed without an admin token). */
const EXIT_UNSAFE = 2;


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
  ackPolicy: ['--ack-policy <json>', 'which levels/types stay open as returned-unacknowledged after a self-clear, e.g. {"levels":{"3":true}}'],
  alarmPolicy: ['--alarm-policy <json|file>', 'alarm management policy: chattering, floods, correlation, verification (docs/ALARM-MANAGEMENT.md)'],
  gatewayOfflineHoldOffS: ['--gateway-offline-hold-off-s <s>', 'a gateway offline longer than this opens an incident (0 = at once)'],
  gatewayRestoreS: ['--gateway-restore-s <s>', 'the offline incident closes once the gateway has been back this long'],
  tickMs: ['--tick-ms <ms>', 'deadline/webhook/heartbeat ticker period'],
  heartbeatTimeoutS: ['--heartbeat-timeout-s <s>', 'silent gateway → incident after this many seconds (0 = off)'],
  adminToken: ['--admin-token <token>', 'bearer token for admin endpoints (imports, consumers)'],
  emqxSecret: ['--emqx-secret <secret>', 'enables /api/v1/emqx/{auth,acl}; EMQX sends it in x-gridwatch-emqx-secret'],
  influxUrl: ['--influx-url <url>', 'InfluxDB v2 write API base URL (or VictoriaMetrics)'],
  influxToken: ['--influx-token <token>', 'InfluxDB token'],
  influxOrg: ['--influx-org <org>', 'InfluxDB organisation'],
  influxBucket: ['--influx-bucket <bucket>', 'InfluxDB bucket'],
  influxApi: ['--influx-api <v2|v1>', 'write API: v2 = /api/v2/write, v1 = /write?db=<bucket> (InfluxDB 1.x; token = user:password)'],
  telemetryWorkers: ['--telemetry-workers <n>', 'worker threads decoding and writing telemetry off the event loop (0 = on it)'],
  telemetryWorkerNice: ['--telemetry-worker-nice <n>', 'Linux nice value of the telemetry workers (0-19; above 0 alarms are scheduled first)'],
  mqttTelemetryHeldPerGateway: ['--mqtt-telemetry-held-per-gateway <n>', "embedded broker: a gateway's telemetry messages read and held while ingest is full, so its alarms behind them pass (0 = stop reading)"],
  ingestShareGroup: ['--ingest-share-group <group>', 'MQTT v5 shared subscription group on an external broker (scale-out)'],
  capSender: ['--cap-sender <sender>', 'CAP 1.2 sender of rendered alerts'],
  shiftStarts: ['--shift-starts <times>', 'shift starts for the handover summary, comma-separated HH:MM (default 08:00,20:00)'],
  shiftTimeZone: ['--shift-time-zone <zone>', 'IANA time zone of the shift starts (default Asia/Shanghai)'],
  leaseS: ['--lease-s <s>', 'default lease of a claimed dispatch message'],
  webhookMaxAttempts: ['--webhook-max-attempts <n>', 'webhook attempts before a message is dead-lettered'],
  webhookBackoffMs: ['--webhook-backoff-ms <ms>', 'first webhook retry delay (doubles each attempt)'],
  openAccess: ['--open-access <bool>', 'anonymous clients may read all incidents and act (demo); false in production'],
  sessionSecret: ['--session-secret <secret>', 'key signing console sessions (>= 32 chars; default: random, kept in the database)'],
  secureCookies: ['--secure-cookies <bool>', 'mark the session cookie Secure (console behind HTTPS)'],
  gatewayPepper: ['--gateway-pepper <key>', 'key of the gateway-secret hash (>= 32 chars; default: random, kept in the database)'],
  mqttsPort: ['--mqtts-port <port>', 'MQTT over TLS port of the embedded broker (needs --tls-cert and --tls-key)'],
  tlsCert: ['--tls-cert <file>', 'PEM certificate chain of the embedded broker (gridwatch-cloud certs makes one)'],
  tlsKey: ['--tls-key <file>', 'PEM private key of the embedded broker'],
  mqttConnectTimeoutMs: ['--mqtt-connect-timeout-ms <ms>', 'a socket that sends no CONNECT in this time is closed'],
  mqttMaxPendingPerAddress: ['--mqtt-max-pending-per-address <n>', 'unauthenticated MQTT sockets one client address may hold'],
  mqttMaxPacketBytes: ['--mqtt-max-packet-bytes <n>', 'largest MQTT packet after authentication'],
  mqttFailuresBeforeBackoff: ['--mqtt-failures-before-backoff <n>', 'MQTT login failures per address before back-off'],
  mqttBackoffBaseMs: ['--mqtt-backoff-base-ms <ms>', 'first MQTT back-off (doubles each further failure)'],
  loginMaxFailuresPerUser: ['--login-max-failures-per-user <n>', 'console login failures per username per window, then 429'],
  loginMaxFailuresPerAddress: ['--login-max-failures-per-address <n>', 'console login failures per client address per window, then 429'],
  loginWindowS: ['--login-window-s <s>', 'window of the console login limits'],
  passwordHashConcurrency: ['--password-hash-concurrency <n>', 'password hashes (scrypt, 128 MiB each) running at once'],
  passwordHashQueue: ['--password-hash-queue <n>', 'password hashes waiting at most; beyond: 503'],
  metricsToken: ['--metrics-token <token>', 'bearer token for /metrics off loopback (default: the admin token)'],
  dynsecUsername: ['--dynsec-username <name>', 'Mosquitto dynamic-security admin on --broker-url: the cloud manages gateway logins there'],
  dynsecPassword: ['--dynsec-password <secret>', 'password of the dynamic-security admin'],
  emqxApiUrl: ['--emqx-api-url <url>', 'EMQX 5 management API, e.g. http://emqx:18083: revoked gateways’ open EMQX sessions are closed through it'],
  emqxApiKey: ['--emqx-api-key <key>', 'EMQX API key (System → API Keys) for --emqx-api-url'],
  emqxApiSecret: ['--emqx-api-secret <secret>', 'EMQX API secret key for --emqx-api-url'],
  requirePlacement: ['--require-placement <bool>', 'refuse events of gateways with no allowed community (default: on unless --http-host is loopback)'],
  mapTiles: ['--map-tiles <url|json>', 'map.tiles: console map tile layer, a URL template ({z}/{x}/{y}) or {"url","attribution","maxZoom"} (docs/DESIGN.md "Map"); none = building-dot view'],
};

const SERVE_KEYS = Object.keys(FLAG_HELP) as (keyof CloudConfig)[];
const STORE_KEYS: (keyof CloudConfig)[] = ['dataDir', 'databaseUrl', 'logLevel'];
/** Gateway commands: the store, the pepper, and Mosquitto's dynamic-security login when the cloud manages it. */
const GATEWAY_KEYS: (keyof CloudConfig)[] = [...STORE_KEYS, 'gatewayPepper', 'brokerUrl', 'ingestUsername', 'dynsecUsername', 'dynsecPassword'];

function isSecretKey(key: keyof CloudConfig): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key);
}

function flagOf(key: keyof CloudConfig): string {
  return FLAG_HELP[key][0].split(' ')[0] as string;
}

function addConfigOptions(command: Command, keys: (keyof CloudConfig)[]): Command {
  for (const key of keys) {
    const [flag, help] = FLAG_HELP[key];
    const fallback = DEFAULT_CONFIG[key];
    command.addOption(
      new Option(flag, `${help}${fallback === null || typeof fallback === 'object' ? '' : ` (default: ${String(fallback)})`}`).env(envName(key)),
    );
    if (isSecretKey(key)) command.addOption(new Option(`${fileFlagOf(flagOf(key))} <file>`, `file holding ${flagOf(key).slice(2)} (preferred over the flag)`).env(fileEnvOf(key)));
  }
  return command;
}

/** Flags as commander parsed them: config keys, `<key>File` for secrets, and command options. */
type Flags = Record<string, unknown>;

function configFrom(flags: Flags, command?: Command): CloudConfig {
  if (command) {
    for (const warning of argvSecretWarnings((key) => command.getOptionValueSource(key), flagOf)) process.stderr.write(`gridwatch-cloud: ${warning}\n`);
  }
  // commander already folds GRIDWATCH_* into flags; configFromEnv covers fields without a flag here.
  const defined = Object.fromEntries(Object.entries(flags).filter(([key, v]) => v !== undefined && key in DEFAULT_CONFIG));
  return resolveConfig({ ...configFromEnv(process.env), ...secretsFromFiles(flags, process.env), ...defined });
}

async function serve(flags: Flags, command: Command): Promise<void> {
  const config = configFrom(flags, command);
  const problem = exposureProblem(config);
  if (problem !== null) {
    process.stderr.write(`gridwatch-cloud: refusing to start: ${problem}\n`);
    process.exit(EXIT_UNSAFE);
  }
  const cloud = await startCloud(config);
  cloud.log.info({ httpUrl: cloud.httpUrl, mqttUrl: cloud.mqttUrl, mqttsPort: cloud.mqttsPort, backend: cloud.store.backend }, 'cloud ready');
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

/** Opens the store the flags name, runs `fn`, closes it; GatewayError/UserError become CLI errors. */
async function withStore(flags: Flags, what: string, fn: (store: Store, log: ReturnType<typeof createLogger>, registry: GatewayRegistry) => Promise<void>): Promise<void> {
  const { dataDir, databaseUrl, logLevel, gatewayPepper, gatewayPepperFile } = flags;
  const config = configFrom({ dataDir, databaseUrl, logLevel, gatewayPepper, gatewayPepperFile });
  const log = createLogger(config.logLevel);
  const store = await openStore(config, log);
  try {
    const registry = new GatewayRegistry(store, { pepper: config.gatewayPepper });
    await registry.prepare();
    // With Mosquitto managed by the cloud, the gateway (and a secret set here) is pushed there too.
    const { brokerUrl, ingestUsername, dynsecUsername, dynsecPassword, dynsecPasswordFile } = flags;
    const brokerConfig = typeof flags.id === 'string' || typeof flags.gatewayIdArg === 'string' ? configFrom({ brokerUrl, ingestUsername, dynsecUsername, dynsecPassword, dynsecPasswordFile }) : null;
    const dynsec = brokerConfig ? await startCliDynsec(brokerConfig, registry, log) : null;
    try {
      await fn(store, log, registry);
      await dynsec?.reconcile(String(flags.gatewayIdArg ?? flags.id));
    } finally {
      await dynsec?.stop();
    }
  } catch (err) {
    if (err instanceof GatewayError || err instanceof UserError || err instanceof EnrollmentError) throw new Error(`${what}: ${err.message}`);
    throw err;
  } finally {
    await store.close();
  }
}

function secretArg(flags: Flags, command: Command): string {
  if (typeof flags.secretFile === 'string') return secretsFromFiles({ adminTokenFile: flags.secretFile }, {}).adminToken ?? '';
  if (command.getOptionValueSource('secret') === 'cli') process.stderr.write('gridwatch-cloud: warning: --secret on the command line is visible to other users (ps); use --secret-file <file>\n');
  if (typeof flags.secret !== 'string') throw new Error('gateway add: --secret-file <file> or --secret <secret> required');
  return flags.secret;
}

async function addGateway(flags: Flags, command: Command): Promise<void> {
  const secret = secretArg(flags, command);
  await withStore(flags, 'gateway add', async (_store, log, registry) => {
    const id = String(flags.id);
    // Provisioning jobs (compose, Kubernetes) run on every start: a gateway already there is fine.
    if (flags.ifAbsent && (await registry.lookup(id))) {
      log.info({ gatewayId: id }, 'gateway already registered; left as it is');
      return;
    }
    log.info(await registry.addGateway({ gatewayId: id, site: String(flags.site), secret }), 'gateway added');
  });
}

const LIFECYCLE_OF: Record<'disable' | 'enable' | 'remove', Lifecycle> = { disable: 'disabled', enable: 'active', remove: 'removed' };

function lifecycleCommand(verb: 'disable' | 'enable' | 'remove') {
  return async (gatewayId: string, flags: Flags): Promise<void> => {
    await withStore({ ...flags, gatewayIdArg: gatewayId }, `gateway ${verb}`, async (_store, log, registry) => {
      const result = await registry.setLifecycle(gatewayId, LIFECYCLE_OF[verb]);
      log.info(result, `gateway ${verb}d`);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
  };
}

async function rotateGateway(gatewayId: string, flags: Flags): Promise<void> {
  await withStore({ ...flags, gatewayIdArg: gatewayId }, 'gateway rotate', async (_store, log, registry) => {
    const rotated = await registry.rotate(gatewayId);
    log.info({ gatewayId, secretVersion: rotated.secretVersion }, 'gateway secret rotated; open sessions of the old secret are closed');
    // The new secret is shown once (only its hash is stored): stdout, for the operator or a script.
    process.stdout.write(`${JSON.stringify(rotated)}\n`);
  });
}

/** `gateway place`: the admin's placement (issue 11); `--device id=addressId` also allows its community. */
async function placeGatewayCommand(gatewayId: string, flags: Flags): Promise<void> {
  const communities = (flags.community as string[] | undefined) ?? [];
  const devices = ((flags.device as string[] | undefined) ?? []).map((pair) => {
    const [deviceId, addressId, extra] = pair.split('=');
    if (!deviceId || !addressId || extra !== undefined) throw new Error(`gateway place: --device ${pair}: expected <deviceId>=<addressId>`);
    return { deviceId, addressId };
  });
  await withStore(flags, 'gateway place', async (store, log) => {
    const placed = await store
      .transaction(async (tx) => {
        await allowCommunities(tx, gatewayId, communities);
        for (const d of devices) await placeDevice(tx, gatewayId, d.deviceId, d.addressId);
        return getPlacement(tx, gatewayId);
      })
      .catch((err: unknown) => {
        throw err instanceof PlacementError ? new Error(`gateway place: ${err.message}`) : err;
      });
    log.info({ gatewayId, communities: placed.communities }, 'gateway placement changed');
    process.stdout.write(`${JSON.stringify(placed)}\n`);
  });
}

async function enrollTokenCommand(flags: Flags): Promise<void> {
  const ttlS = flags.ttlS === undefined ? undefined : Number(flags.ttlS);
  await withStore(flags, 'enroll-token', async (store, _log, registry) => {
    const communities = Array.isArray(flags.community) ? flags.community.map(String) : [];
    const issued = await issueToken(store, registry, { gatewayId: String(flags.gatewayId), site: String(flags.site), communities, ...(ttlS === undefined ? {} : { ttlS }) });
    // The token is shown once (only its hash is stored): stdout, for the installer or a script.
    process.stdout.write(`${JSON.stringify(issued)}\n`);
    process.stderr.write(`on the gateway: gridwatch enroll --token ${issued.token} --cloud <cloud URL> --config /etc/gridwatch/edge.yaml (valid until ${issued.expiresAt})\n`);
  });
}

async function addUserCommand(flags: Flags): Promise<void> {
  // A running cloud (--api-url, or the one advertised in the embedded data folder's lock) creates
  // the user itself, so it can log in at once; otherwise the store is opened directly.
  const { dataDir, databaseUrl, logLevel, adminToken, adminTokenFile } = flags;
  const config = configFrom({ dataDir, databaseUrl, logLevel, adminToken, adminTokenFile });
  const apiUrl = typeof flags.apiUrl === 'string' ? flags.apiUrl : config.databaseUrl ? null : runningCloudApi(config.dataDir);
  if (apiUrl) {
    const jurisdictions = flags.jurisdiction as string[];
    const input = { username: String(flags.username), password: String(flags.password), role: String(flags.role), jurisdictions, ifAbsent: flags.ifAbsent === true };
    const result = await addUserViaApi(apiUrl, config.adminToken, typeof flags.displayName === 'string' ? { ...input, displayName: flags.displayName } : input);
    createLogger(config.logLevel).info({ ...result.user, api: apiUrl }, result.created ? 'user added' : 'user already exists; left as it is');
    return;
  }
  await withStore(flags, 'user add', async (store, log) => {
    const username = String(flags.username);
    if (flags.ifAbsent && (await findUser(store, username))) {
      log.info({ username }, 'user already exists; left as it is');
      return;
    }
    const user = await addUser(store, {
      username,
      password: String(flags.password),
      role: String(flags.role),
      jurisdictions: flags.jurisdiction as string[],
      ...(typeof flags.displayName === 'string' ? { displayName: flags.displayName } : {}),
    });
    log.info({ username: user.username, role: user.role, jurisdictions: user.jurisdictions }, 'user added');
  });
}

async function certsCommand(flags: Flags): Promise<void> {
  const dir = String(flags.dir);
  if (flags.ifAbsent && existsSync(join(dir, 'server.crt'))) {
    process.stderr.write(`gridwatch-cloud: certificates already in ${dir}; left as they are\n`);
    return;
  }
  const files = await createCertificates({ dir, hosts: flags.host as string[], days: Number(flags.days) });
  process.stdout.write(`${JSON.stringify(files)}\n`);
  process.stderr.write(`serve with: --mqtts-port 8883 --tls-cert ${files.serverCert} --tls-key ${files.serverKey}; give gateways ${files.caCert} as tls.ca\n`);
}

const program = new Command('gridwatch-cloud').description('GridWatch cloud: MQTT ingest, incidents, API and console');

addConfigOptions(program.command('serve').description('run the cloud (embedded broker and PGlite by default)'), SERVE_KEYS).action(serve);

const gateway = program.command('gateway').description('manage gateway credentials and lifecycle (with PGlite, stop `serve` first: one process owns the data folder)');
addConfigOptions(
  gateway
    .command('add')
    .description('register a gateway')
    .requiredOption('--id <gatewayId>', 'gateway id, its MQTT username and client id')
    .requiredOption('--site <site>', 'site the gateway belongs to')
    .option('--secret-file <file>', 'file holding the gateway secret, its MQTT password (stored as a keyed hash)')
    .option('--secret <secret>', 'the secret on argv (visible in ps; prefer --secret-file)')
    .option('--if-absent', 'succeed without changes when the gateway is already registered'),
  GATEWAY_KEYS,
).action(addGateway);
for (const verb of ['disable', 'enable', 'remove'] as const) {
  const help = { disable: 'refuse the gateway at CONNECT and close its sessions on every replica', enable: 'allow a disabled gateway again', remove: 'remove the gateway for good (its incidents stay)' }[verb];
  addConfigOptions(gateway.command(`${verb} <gatewayId>`).description(help), GATEWAY_KEYS).action(lifecycleCommand(verb));
}
addConfigOptions(
  gateway.command('rotate <gatewayId>').description('give the gateway a new random secret (printed once); sessions of the old one are closed on every replica'),
  GATEWAY_KEYS,
).action(rotateGateway);
addConfigOptions(
  gateway
    .command('place <gatewayId>')
    .description('allow communities and place devices at addresses; prints the placement (events outside it are refused)')
    .option('--community <community...>', 'communities the gateway may serve')
    .option('--device <deviceId=addressId...>', 'a device and its address (allows the address’s community)'),
  STORE_KEYS,
).action(placeGatewayCommand);

addConfigOptions(
  program
    .command('enroll-token')
    .description('issue a one-time enrollment token for a gateway; prints {token, expiresAt} once (with PGlite, stop `serve` first, or use POST /api/v1/enrollment-tokens)')
    .requiredOption('--gateway-id <id>', 'gateway id the token enrolls (new, or existing: its secret is rotated)')
    .requiredOption('--site <site>', 'site the gateway belongs to')
    .option('--ttl-s <s>', 'validity in seconds (default 86400, at most 30 days)')
    .option('--community <community...>', 'communities the gateway may serve once enrolled (placement)'),
  [...STORE_KEYS, 'gatewayPepper'],
).action(enrollTokenCommand);

const user = program.command('user').description('manage console users (staff, installers, admins)');
addConfigOptions(
  user
    .command('add')
    .description('create a console user, password stored as a scrypt hash (through the running cloud\'s API when one runs on the data folder, or with --api-url)')
    .requiredOption('--username <name>', 'login name (a-z 0-9 . _ -)')
    .requiredOption('--password <password>', 'at least 8 characters')
    .requiredOption('--role <role>', 'dispatcher, community_staff, grid_worker, installer or admin')
    .requiredOption(
      '--jurisdiction <tier:area>',
      'district:FT, street:FT-S01, community:FT-C01, grid:FT-G01 or * (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--display-name <name>', 'name shown in the console and the audit trail')
    .option('--if-absent', 'succeed without changes when the user already exists')
    .option('--api-url <url>', 'a running cloud to create the user through (default: the one running on --data-dir, if any)'),
  [...STORE_KEYS, 'adminToken'],
).action(addUserCommand);

program
  .command('certs')
  .description('create a private CA and a server certificate for the embedded broker (small installs; uses openssl)')
  .requiredOption('--dir <dir>', 'folder for ca.crt, ca.key, server.crt, server.key')
  .option('--host <name>', 'DNS name or IP address of the broker (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .option('--days <n>', 'validity in days', '825')
  .option('--if-absent', 'succeed without changes when the folder already holds a server certificate')
  .action((flags: Flags) => certsCommand({ ...flags, host: (flags.host as string[] | undefined) ?? ['localhost', '127.0.0.1'] }));

registerReplayCommand(program);

program.parseAsync().catch((err: unknown) => {
  // The one boundary where start-up errors are reported.
  console.error(`gridwatch-cloud: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
