// `gridwatch enroll --token … --cloud …`
import type { Command } from 'commander';
import { action, withCommon } from '../command.ts';
import { enroll, type EnrollFlags } from '../enrollment.ts';

export function register(program: Command): void {
  withCommon(
    program
      .command('enroll')
      .description("exchange a one-time enrollment token for this gateway's own MQTT credential; writes <dataDir>/credentials.json (mode 0600)")
      .option('--token <token>', 'one-time enrollment token from the cloud admin (env GRIDWATCH_ENROLL_TOKEN)')
      .option('--cloud <url>', 'cloud HTTP(S) URL (env GRIDWATCH_CLOUD_URL)')
      .option('--ca <file.pem>', 'also store this CA (PEM) for the broker certificate in the credentials'),
  ).action(action<EnrollFlags>((o) => enroll(o)));
}
