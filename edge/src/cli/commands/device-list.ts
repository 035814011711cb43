// `gridwatch device list`
import type { Command } from 'commander';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig } from '../config-file.ts';
import { describe } from '../devices.ts';
import { emit } from '../output.ts';
import { table } from '../render/table.ts';

export function register(device: Command): void {
  withCommon(device.command('list').description('list the devices')).action(
    action<Common>((o) => {
      const cf = openConfig(o.config);
      // MQTT passwords stay in the config file: this JSON ends up in scripts, logs and tickets.
      const devices = cf.config.devices.map((d) => (d.mqtt ? { ...d, mqtt: { ...d.mqtt, password: '(redacted)' } } : d));
      emit(o, { devices }, () => table(['id', 'profile', 'connection', 'address'], cf.config.devices.map((d) => [d.id, d.profile, describe(d), d.addressId ?? '—'])));
    }),
  );
}
