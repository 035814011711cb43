// Rules raise once when they start matching and clear once when they stop. A report without the
// point changes nothing, because devices report any subset of their fields.
// - state: the point equals `whenValue` (default true), e.g. an alarm bit.
// - threshold: a number point `>=`/`<=` `limit`; once raised it clears only when the value is back
//   on the normal side by more than `deadband` (hysteresis), so a value at the limit cannot chatter.
import type { AlarmEvent, Reading, ReadingValue } from '@gridwatch/protocol';
import type { Profile, Rule } from '@gridwatch/firmware-profiles';
import type { RuleStateStore } from './state-store.ts';

/** An AlarmEvent before the outbox gives it its sequence number and id. */
export type EventDraft = Omit<AlarmEvent, 'id' | 'seq'>;

export interface DeviceContext {
  deviceId: string;
  profile: Profile;
  addressId?: string;
}

/** Whether the rule is (still) active for this value; null when the value says nothing (wrong type). */
export function ruleMatches(rule: Rule, value: ReadingValue, wasActive: boolean): boolean | null {
  if (rule.kind === 'state') return value === (rule.whenValue ?? true);
  if (typeof value !== 'number') return null;
  const deadband = wasActive ? (rule.deadband ?? 0) : 0;
  return rule.op === '>=' ? value >= rule.limit - deadband : value <= rule.limit + deadband;
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
    const wasActive = store.isActive(device.deviceId, rule.alarmType);
    const matches = ruleMatches(rule, value, wasActive);
    if (matches === null || matches === wasActive) continue;
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
