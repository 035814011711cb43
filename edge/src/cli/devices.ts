// Devices of the config file as the installer commands see them: found by id, described in one
// line, and built from flags or a CSV row through the device's transport (drivers/registry.ts).
import type { Command } from 'commander';
import type { DeviceConfig } from '../config/index.ts';
import type { AnyTransportDescriptor, DeviceFlags } from '../drivers/descriptor.ts';
import { textFlag } from '../drivers/flags.ts';
import { getTransport, listTransports } from '../drivers/registry.ts';
import type { ConfigFile } from './config-file.ts';
import { CliError, EXIT } from './output.ts';

export function deviceOf(cf: ConfigFile, id: string): DeviceConfig {
  const device = cf.config.devices.find((d) => d.id === id);
  if (!device) throw new CliError(`device ${id} is not in ${cf.file}`, EXIT.usage, `list the devices with: gridwatch device list -c ${cf.file}`);
  return device;
}

function blockOf(device: DeviceConfig, transport: AnyTransportDescriptor): Record<string, unknown> | undefined {
  return (device as Record<string, unknown>)[transport.id] as Record<string, unknown> | undefined;
}

/** The device's transport: the one whose block it has. */
export function transportOfDevice(device: DeviceConfig): AnyTransportDescriptor | undefined {
  return listTransports().find((t) => blockOf(device, t) !== undefined);
}

/** Where a device sits, in one line: `rtu0 unit 3`, `mqtt smoke-1`. */
export function describe(device: DeviceConfig): string {
  const transport = transportOfDevice(device);
  return transport ? transport.describe(blockOf(device, transport)!) : '—';
}

/** The transports' device options (`--bus`, `--unit-id`, …), each once. */
export function deviceOptions(command: Command): Command {
  const seen = new Set<string>();
  for (const [flags, help] of listTransports().flatMap((t) => t.cli.options)) {
    const long = flags.split(' ')[0]!;
    if (seen.has(long)) continue;
    seen.add(long);
    command.option(flags, help);
  }
  return command;
}

/** CSV columns of `device import`: the common ones, then each transport's, snake_case. */
export function csvColumns(): string[] {
  const columns = ['id', 'profile', 'address_id'];
  for (const [flags] of listTransports().flatMap((t) => t.cli.options)) {
    const column = flags.split(' ')[0]!.replace(/^--/, '').replace(/-/g, '_');
    if (!columns.includes(column)) columns.push(column);
  }
  return columns;
}

export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
export const columnName = (key: string): string => `column ${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;

/** A device from flags or a CSV row (`nameOf` says how to name an input in errors); its block follows the profile's transport. */
export function buildDevice(cf: ConfigFile, flags: DeviceFlags, base: DeviceConfig | undefined, nameOf: (key: string) => string = flagName): DeviceConfig {
  const id = textFlag(flags, 'id') ?? base?.id;
  const profileId = textFlag(flags, 'profile') ?? base?.profile;
  if (!id || !profileId) throw new CliError('id and profile are required', EXIT.usage, `pass ${nameOf('id')} <device id> and ${nameOf('profile')} <profile id> (gridwatch device add --help)`);
  const loaded = cf.profiles.profiles.get(profileId);
  if (!loaded) throw new CliError(`unknown profile ${profileId}`, EXIT.usage, `use one of: ${[...cf.profiles.profiles.keys()].join(', ')}`);
  const transport = getTransport(loaded.profile.transport);
  if (!transport) throw new CliError(`profile ${profileId} uses transport ${loaded.profile.transport}, which this gridwatch does not have`, EXIT.usage, 'use a profile of another transport');
  const addressId = textFlag(flags, 'addressId') ?? base?.addressId;
  const block = transport.cli.blockFromFlags(id, profileId, flags, base ? blockOf(base, transport) : undefined, nameOf);
  return { id, profile: profileId, ...(addressId ? { addressId } : {}), [transport.id]: block } as DeviceConfig;
}
