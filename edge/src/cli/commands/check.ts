// `gridwatch check -c <file>`: validates the config and the profiles its devices use, as the agent
// does at start-up, and says what is wrong in words (exit 2) — not as a log line.
import type { Command } from 'commander';
import { loadProfiles, ProfileError } from '@gridwatch/firmware-profiles';
import { bindDevices, ConfigError, loadConfig } from '../../config/index.ts';
import { action, type Common } from '../command.ts';
import { CliError, emit, EXIT } from '../output.ts';

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a config file and the profiles its devices use, then exit')
    .requiredOption('-c, --config <file>', 'edge config file (YAML or JSON)')
    .option('--json', 'machine-readable output on stdout')
    .action(
      action<Common>((o) => {
        try {
          const config = loadConfig(o.config);
          const devices = bindDevices(config, loadProfiles(config.profilesDir));
          emit(o, { ok: true, gatewayId: config.gateway.id, devices: devices.size }, () => `${o.config}: ok (gateway ${config.gateway.id}, ${devices.size} devices)`);
        } catch (err) {
          if (err instanceof ConfigError || err instanceof ProfileError) throw new CliError(err.message, EXIT.usage, `fix the value at the path named above, then run: gridwatch check -c ${o.config}`);
          throw err;
        }
      }),
    );
}
