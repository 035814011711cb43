// `gridwatch device add --id … --profile … [transport options]`
import type { Command } from 'commander';
import type { DeviceFlags } from '../../drivers/descriptor.ts';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig, saveDevices } from '../config-file.ts';
import { buildDevice, describe, deviceOptions } from '../devices.ts';
import { CliError, emit, EXIT } from '../output.ts';

export function register(device: Command): void {
  const command = device.command('add').description('add a device').requiredOption('--id <id>', 'device id');
  withCommon(deviceOptions(command.option('--profile <id>', 'firmware profile, e.g. generic/smoke-modbus').option('--address-id <id>', 'standard address id where the device is installed'))).action(
    action<Common & DeviceFlags & { id: string }>((o) => {
      const cf = openConfig(o.config);
      if (cf.config.devices.some((d) => d.id === o.id)) throw new CliError(`device ${o.id} already exists`, EXIT.usage, `change it with: gridwatch device edit ${o.id} …`);
      const added = buildDevice(cf, o, undefined);
      saveDevices(cf, (list) => [...list, added]);
      emit(o, { ok: true, device: added }, () => `added ${added.id} (${added.profile}, ${describe(added)})`);
    }),
  );
}
