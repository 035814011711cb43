// `gridwatch test <device>`: the commissioning round trip — the device's test (pressed, or played
// with --simulate), recorded by the cloud, where it routes and how long it took.
import type { Command } from 'commander';
import { bindDevices } from '../../config/index.ts';
import { commissionTest, type CloudFlags } from '../cloud.ts';
import { action, integerOption, withCommon, type Common } from '../command.ts';
import { openConfig } from '../config-file.ts';
import { deviceOf } from '../devices.ts';
import { emit, EXIT } from '../output.ts';
import { saveRecord } from '../records.ts';

export function cloudOptions(c: Command): Command {
  return c
    .option('--cloud-url <url>', 'cloud HTTP URL (env GRIDWATCH_CLOUD_URL)')
    .option('--user <name>', 'installer account (env GRIDWATCH_CLOUD_USER)')
    .option('--password <password>', 'its password (env GRIDWATCH_CLOUD_PASSWORD)')
    .option('--token <token>', 'a session token instead (env GRIDWATCH_CLOUD_TOKEN)');
}

type TestFlags = Common & CloudFlags & { simulate?: boolean; timeoutS: string };

export function register(program: Command): void {
  const command = program
    .command('test')
    .description("commissioning round trip: trigger the device's test, wait for the cloud to record it, show where it routes and how long it took")
    .argument('<device>')
    .option('--simulate', "play the device's test press from its profile's vectors instead of pressing its button")
    .option('--timeout-s <s>', 'how long to wait for the cloud', '60');
  withCommon(cloudOptions(command)).action(
    action<TestFlags>(async (o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      const timeoutMs = (integerOption('--timeout-s', o.timeoutS, { min: 1, max: 3600 }) ?? 60) * 1000;
      const result = await commissionTest(cf, bindDevices(cf.config, cf.profiles).get(d.id)!, o, timeoutMs);
      saveRecord(cf, { deviceId: d.id, test: result });
      const unit = result.unit ? `${result.unit.name} (${result.unit.id}, ${result.unit.tier})` : 'none';
      emit(o, { device: d.id, ...result }, () =>
        [
          `${d.id}: ${result.passed ? 'PASS' : 'FAIL'} — round trip ${result.roundTripMs} ms (gateway → cloud ${result.uplinkMs} ms)`,
          `  routed to: community ${result.community ?? '—'}, grid ${result.grid ?? '—'}, unit ${unit}`,
          ...(result.error ? [`  ${result.error}: import the address and units in the cloud`] : []),
        ].join('\n'),
      );
      if (!result.passed) process.exitCode = EXIT.failed;
    }),
  );
}
