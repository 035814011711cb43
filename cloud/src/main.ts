// gridwatch-cloud CLI. `serve` runs the cloud; `gateway add` registers a gateway in the same store.
// Flags override GRIDWATCH_* environment variables, which override the defaults.
import { Command, Option } from 'commander';
import { startCloud } from './cloud.ts';
import { DEFAULT_CONFIG, configFromEnv, envName, resolveConfig, type CloudConfig } from './config.ts';
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
  ingestUsername: ['--ingest-username <name>', 'ingest login on the external broker'],
  ingestPassword: ['--ingest-password <secret>', 'ingest password on the external broker'],
  logLevel: ['--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
};

function addConfigOptions(command: Command, keys: (keyof CloudConfig)[]): Command {
  for (const key of keys) {
    const [flag, help] = FLAG_HELP[key];
    const fallback = DEFAULT_CONFIG[key];
    command.addOption(
      new Option(flag, `${help}${fallback === null ? '' : ` (default: ${String(fallback)})`}`).env(envName(key)),
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

async function addGateway(flags: Flags & { id: string; site: string; secret: string }): Promise<void> {
  const config = configFrom({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, logLevel: flags.logLevel });
  const log = createLogger(config.logLevel);
  const store = await openStore(config, log);
  try {
    const gateway = await new GatewayRegistry(store).addGateway({ gatewayId: flags.id, site: flags.site, secret: flags.secret });
    log.info(gateway, 'gateway added');
  } finally {
    await store.close();
  }
}

const program = new Command('gridwatch-cloud').description('GridWatch cloud: MQTT ingest, incidents, API and console');

addConfigOptions(program.command('serve').description('run the cloud (embedded broker and PGlite by default)'), [
  'httpHost',
  'httpPort',
  'mqttHost',
  'mqttPort',
  'dataDir',
  'databaseUrl',
  'brokerUrl',
  'ingestUsername',
  'ingestPassword',
  'logLevel',
]).action(serve);

const gateway = program.command('gateway').description('manage gateway credentials');
addConfigOptions(
  gateway
    .command('add')
    .description('register a gateway (with PGlite, stop `serve` first: one process owns the data folder)')
    .requiredOption('--id <gatewayId>', 'gateway id, its MQTT username')
    .requiredOption('--site <site>', 'site the gateway belongs to')
    .requiredOption('--secret <secret>', 'gateway secret, its MQTT password (stored hashed)'),
  ['dataDir', 'databaseUrl', 'logLevel'],
).action(addGateway);

program.parseAsync().catch((err: unknown) => {
  // The one boundary where start-up errors are reported.
  console.error(`gridwatch-cloud: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
