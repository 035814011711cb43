// Pairs each device with its profile and checks its transport block: exactly one, the one of the
// profile's transport, then that transport's own checks (bus declared and of the right kind, no two
// devices at one address). Then rule overrides and actuators. Every problem is a start-up error
// naming the file and the JSON path.
import type { ProfileCollection } from '@gridwatch/firmware-profiles';
import { getTransport, listTransports } from '../drivers/registry.ts';
import { applyRuleOverrides, type RuleOverrideAt } from '../rules/overrides.ts';
import { ConfigError, closestKey } from './errors.ts';
import type { BoundDevice, BusConfig, DeviceConfig, EdgeConfig } from './schema.ts';

type Fail = (path: string, message: string) => never;

function profileHint(id: string, collection: ProfileCollection): string {
  const known = [...collection.profiles.keys()];
  const suggestion = closestKey(id, known);
  return suggestion === undefined ? ` (known: ${known.join(', ')})` : `; did you mean ${suggestion}?`;
}

function blockOf(device: DeviceConfig, id: string): unknown {
  return (device as Record<string, unknown>)[id];
}

function bindTransport(device: DeviceConfig, transport: string, at: string, buses: ReadonlyMap<string, BusConfig>, taken: Map<string, string>, fail: Fail): void {
  const blocks = listTransports()
    .map((t) => t.id)
    .filter((id) => blockOf(device, id) !== undefined);
  if (blocks.length !== 1 || blocks[0] !== transport) {
    const extra = blocks.find((id) => id !== transport);
    fail(
      extra === undefined ? at : `${at}/${extra}`,
      `device ${device.id}: profile ${device.profile} uses transport ${transport}, so the device needs exactly one \`${transport}\` block${extra === undefined ? '' : `, not ${extra}`}`,
    );
  }
  const descriptor = getTransport(transport);
  if (!descriptor) return fail(`${at}/profile`, `device ${device.id}: no transport ${transport} is registered`);
  descriptor.bind?.({
    device,
    block: blockOf(device, transport) as Record<string, unknown>,
    at: `${at}/${transport}`,
    buses,
    fail,
    claim: (key) => {
      const scoped = `${transport}:${key}`;
      const other = taken.get(scoped);
      if (other === undefined) taken.set(scoped, device.id);
      return other;
    },
  });
}

function overridesFor(config: EdgeConfig, device: DeviceConfig, at: string): RuleOverrideAt[] {
  const overrides: RuleOverrideAt[] = [];
  config.rules.forEach((o, i) => {
    if (o.profile === device.profile) overrides.push({ value: o, path: `/rules/${i}` });
  });
  (device.rules ?? []).forEach((o, i) => overrides.push({ value: o, path: `${at}/rules/${i}` }));
  return overrides;
}

function checkActuators(config: EdgeConfig, bound: Map<string, BoundDevice>, fail: Fail): void {
  config.actuators.forEach((a, i) => {
    const at = `/actuators/${i}`;
    const devices = [...bound.keys()].join(', ');
    const source = bound.get(a.when.device);
    if (!source) fail(`${at}/when/device`, `unknown device ${a.when.device} (devices: ${devices})`);
    const rules = source.rules ?? source.profile.rules;
    if (!rules.some((r) => r.alarmType === a.when.alarmType)) {
      fail(`${at}/when/alarmType`, `device ${a.when.device} has no rule ${a.when.alarmType} (has: ${rules.map((r) => r.alarmType).join(', ')})`);
    }
    const target = bound.get(a.target.device);
    if (!target) fail(`${at}/target/device`, `unknown device ${a.target.device} (devices: ${devices})`);
    const point = target.profile.points.find((p) => p.name === a.target.point);
    if (!point || !('access' in point) || point.access !== 'readwrite') {
      const writable = target.profile.points.filter((p) => 'access' in p && p.access === 'readwrite').map((p) => p.name);
      fail(`${at}/target/point`, `device ${a.target.device}: ${a.target.point} is not a writable point (writable: ${writable.join(', ') || 'none'})`);
    }
  });
}

export function bindDevices(config: EdgeConfig, collection: ProfileCollection): Map<string, BoundDevice> {
  const bound = new Map<string, BoundDevice>();
  const buses = new Map(config.buses.map((b) => [b.id, b]));
  const taken = new Map<string, string>();
  const fail: Fail = (path, message) => {
    throw new ConfigError(config.source, path, message);
  };
  config.devices.forEach((device, index) => {
    const at = `/devices/${index}`;
    const loaded = collection.profiles.get(device.profile);
    if (!loaded) return fail(`${at}/profile`, `device ${device.id}: unknown profile ${device.profile}${profileHint(device.profile, collection)}`);
    bindTransport(device, loaded.profile.transport, at, buses, taken, fail);
    bound.set(device.id, { device, profile: loaded.profile, rules: applyRuleOverrides(loaded.profile, overridesFor(config, device, at), config.source) });
  });
  config.rules.forEach((o, i) => {
    if (!collection.profiles.has(o.profile)) fail(`/rules/${i}/profile`, `unknown profile ${o.profile}`);
  });
  checkActuators(config, bound, fail);
  return bound;
}
