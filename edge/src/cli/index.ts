// `gridwatch` — the agent and the installer CLI in one program: devices in the config file
// (validated against the profiles), a bus scan, live reads through the driver code, the
// commissioning round trip through the cloud, the commissioning report, enrollment, and the
// agent itself. One module per command under commands/; rendering under render/.
import type { Command } from 'commander';
import * as check from './commands/check.ts';
import * as deviceAdd from './commands/device-add.ts';
import * as deviceEdit from './commands/device-edit.ts';
import * as deviceImport from './commands/device-import.ts';
import * as deviceList from './commands/device-list.ts';
import * as deviceRemove from './commands/device-remove.ts';
import * as deviceShow from './commands/device-show.ts';
import * as enroll from './commands/enroll.ts';
import * as read from './commands/read.ts';
import * as report from './commands/report.ts';
import * as run from './commands/run.ts';
import * as scan from './commands/scan.ts';
import * as test from './commands/test.ts';

export { EXIT, CliError } from './output.ts';

export function registerCli(program: Command): void {
  run.register(program);
  check.register(program);
  const device = program.command('device').description('devices of this gateway in the edge config file, validated against the profiles');
  for (const command of [deviceAdd, deviceList, deviceShow, deviceEdit, deviceRemove, deviceImport]) command.register(device);
  for (const command of [scan, read, test, enroll, report]) command.register(program);
}
