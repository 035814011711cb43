// `gridwatch device remove <id>`
import type { Command } from 'commander';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig, saveDevices } from '../config-file.ts';
import { deviceOf } from '../devices.ts';
import { emit } from '../output.ts';

export function register(device: Command): void {
  withCommon(device.command('remove').description('remove a device').argument('<id>')).action(
    action<Common>((o, id) => {
      const cf = openConfig(o.config);
      deviceOf(cf, id as string);
      saveDevices(cf, (list) => list.filter((d) => d.id !== id));
      emit(o, { ok: true, removed: id }, () => `removed ${id as string}`);
    }),
  );
}
