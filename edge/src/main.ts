#!/usr/bin/env node
// gridwatch-edge CLI. Errors are logged once here, at the boundary, and turn into the exit code.
import { Command } from 'commander';
import { pino } from 'pino';
import { AGENT_VERSION, startAgent, type Agent } from './agent.ts';
import { registerCli } from './cli/index.ts';
import { ConfigError, bindDevices, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { SystemdNotifier } from './systemd/notify.ts';
import { ProfileError, loadProfiles } from '@gridwatch/firmware-profiles';

function fail(err: unknown): never {
  const known = err instanceof ConfigError || err instanceof ProfileError;
  pino({ name: 'gridwatch-edge' }).fatal(known ? { err: { type: err.name, message: err.message } } : { err }, known ? err.message : 'edge failed');
  process.exit(known ? 2 : 1);
}

const program = new Command()
  .name('gridwatch-edge')
  .description('GridWatch edge agent: local device broker, rules, durable outbox and cloud uplink')
  .version(AGENT_VERSION);

program
  .command('run')
  .description('Run the agent until SIGINT/SIGTERM')
  .requiredOption('-c, --config <file>', 'edge config file (YAML or JSON)')
  .action(async ({ config: file }: { config: string }) => {
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
      onError: (err) => pino({ name: 'gridwatch-edge' }).warn({ err: err.message }, 'systemd-notify failed'),
    });
    const shutdown = (signal: string): void => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      systemd.stopping();
      if (!starting) process.exit(0);
      starting
        .then((agent) => agent.stop())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            pino({ name: 'gridwatch-edge' }).error({ err, signal }, 'error while stopping');
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
  });

program
  .command('check')
  .description('Validate a config file and the profiles its devices use, then exit')
  .requiredOption('-c, --config <file>', 'edge config file (YAML or JSON)')
  .action(({ config: file }: { config: string }) => {
    try {
      const config = loadConfig(file);
      const devices = bindDevices(config, loadProfiles(config.profilesDir));
      console.log(`${file}: ok (gateway ${config.gateway.id}, ${devices.size} devices)`);
    } catch (err) {
      fail(err);
    }
  });

// The installer commands (`gridwatch device|scan|read|test|report`), also reachable as
// `gridwatch-edge <command>`.
registerCli(program);

await program.parseAsync(process.argv);
