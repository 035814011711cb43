// `gridwatch run -c <file>`: the agent, until SIGINT/SIGTERM, under systemd's readiness and
// watchdog protocol when there is one. It logs as a service (pino JSON lines); a bad config or
// profile is logged once and exits 2.
import type { Command } from 'commander';
import { pino } from 'pino';
import { ProfileError } from '@gridwatch/firmware-profiles';
import { startAgent, type Agent } from '../../agent.ts';
import { ConfigError, loadConfig } from '../../config/index.ts';
import { createLogger } from '../../log.ts';
import { SystemdNotifier } from '../../systemd/notify.ts';

const log = () => pino({ name: 'gridwatch' });

function fail(err: unknown): never {
  const known = err instanceof ConfigError || err instanceof ProfileError;
  log().fatal(known ? { err: { type: err.name, message: err.message } } : { err }, known ? err.message : 'edge failed');
  process.exit(known ? 2 : 1);
}

async function runAgent(file: string): Promise<void> {
  // Handlers go in before the agent starts: `edge ready` is printed inside startAgent, and a
  // supervisor may signal as soon as it reads that line.
  let starting: Promise<Agent> | null = null;
  let agent: Agent | null = null;
  const systemd = new SystemdNotifier({
    // Petting stops when the outbox database stops answering, so systemd restarts a wedged agent.
    healthy: () => {
      try {
        agent?.health();
        return true;
      } catch {
        return false;
      }
    },
    onError: (err) => log().warn({ err: err.message }, 'systemd-notify failed'),
  });
  const shutdown = (signal: string): void => {
    process.off('SIGINT', shutdown);
    process.off('SIGTERM', shutdown);
    systemd.stopping();
    if (!starting) process.exit(0);
    starting
      .then((a) => a.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log().error({ err, signal }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  try {
    const config = loadConfig(file);
    starting = startAgent(config, { logger: createLogger(config.logLevel) });
    agent = await starting;
    systemd.ready(`gateway ${agent.gatewayId}: local broker on ${agent.localMqttPort}, health on ${agent.httpPort}`);
  } catch (err) {
    fail(err);
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the agent until SIGINT/SIGTERM')
    .requiredOption('-c, --config <file>', 'edge config file (YAML or JSON)')
    .action(({ config }: { config: string }) => runAgent(config));
}
