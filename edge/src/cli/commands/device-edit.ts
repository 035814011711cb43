// `gridwatch device edit <id> [options]`: only the given options change.
import type { Command } from 'commander';
import type { DeviceFlags } from '../../drivers/descriptor.ts';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig, saveDevices } from '../config-file.ts';
import { buildDevice, describe, deviceOf, deviceOptions } from '../devices.ts';
import { emit } from '../output.ts';

export function register(device: Command): void {
  const command = device.command('edit').description('change a device (only the given options)').argument('<id>');
  withCommon(deviceOptions(command.option('--profile <id>', 'firmware profile, e.g. generic/smoke-modbus').option('--address-id <id>', 'standard address id where the device is installed'))).action(
    action<Common & DeviceFlags>((o, id) => {
      const cf = openConfig(o.config);
      const current = deviceOf(cf, id as string);
      // A new profile may change the transport: then the old block is no base for the new one.
      const profile = typeof o.profile === 'string' ? o.profile : undefined;
      const base = profile && profile !== current.profile ? { id: current.id, profile } : current;
      const changed = buildDevice(cf, { ...o, id: current.id }, base);
      saveDevices(cf, (list) => list.map((d) => (d.id === current.id ? changed : d)));
      emit(o, { ok: true, device: changed }, () => `changed ${changed.id} (${changed.profile}, ${describe(changed)})`);
    }),
  );
}
