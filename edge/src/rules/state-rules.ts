// State rules: an alarm bit (or any point compared with `whenValue`) raises once when it starts
// matching and clears once when it stops. A report without the point changes nothing, because
// devices report any subset of their fields.
import type { AlarmEvent, Reading, ReadingValue } from '@gridwatch/protocol';
import type { Profile } from '@gridwatch/firmware-profiles';
import type { RuleStateStore } from './state-store.ts';

/** An AlarmEvent before the outbox gives it its sequence number and id. */
export type EventDraft = Omit<AlarmEvent, 'id' | 'seq'>;

export interface DeviceContext {
  deviceId: string;
  profile: Profile;
  addressId?: string;
}

/**
 * Evaluates the profile's rules against one report and records state changes in `store`.
 * Callers that persist events should run this inside the same transaction as the outbox append,
 * so an alarm's state and its event are committed together or not at all.
 */
export function evaluateRules(device: DeviceContext, readings: readonly Reading[], store: RuleStateStore, t: number): EventDraft[] {
  const values = new Map<string, ReadingValue>(readings.map((r) => [r.point, r.value]));
  const snapshot = Object.fromEntries(values);
  const { profile } = device;
  const isTest = profile.testPoint !== undefined && values.get(profile.testPoint) === true;
  const events: EventDraft[] = [];
  for (const rule of profile.rules) {
    const value = values.get(rule.point);
    if (value === undefined) continue;
    const matches = value === (rule.whenValue ?? true);
    const wasActive = store.isActive(device.deviceId, rule.alarmType);
    if (matches === wasActive) continue;
    store.setActive(device.deviceId, rule.alarmType, matches, t);
    events.push({
      deviceId: device.deviceId,
      profileId: profile.id,
      alarmType: rule.alarmType,
      action: matches ? 'raise' : 'clear',
      level: rule.level,
      reason: matches ? rule.reason : `${rule.point} back to normal (${JSON.stringify(value)})`,
      edgeTime: t,
      ...(isTest ? { test: true } : {}),
      ...(device.addressId === undefined ? {} : { addressId: device.addressId }),
      readings: snapshot,
    });
  }
  return events;
}
