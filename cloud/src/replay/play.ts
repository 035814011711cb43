// Plays a script on the rehearsal clock: device reports through the real edge rule engine (its
// injectable clock on the scripted time), scripted events and the edge's drafts through the real
// cloud incident logic (applyEvents), and the alarm-policy timers (flood quiet time, verification)
// at every scripted instant. Nothing reads the wall clock except the optional pacing (`speed`).
import type { AlarmEvent } from '@gridwatch/protocol';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { MemoryRuleStore, RuleEngine, type EventDraft } from '@gridwatch/edge';
import type { GatewayRecord } from '../gateways/registry.ts';
import { applyEvents } from '../incidents/apply.ts';
import type { EngineOptions } from '../incidents/outcome.ts';
import { runAlarmPolicyTimers } from '../jobs/alarm-policy.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../routing/directory.ts';
import type { Store } from '../store/store.ts';
import { expandSteps, ScriptError, type Directory, type Script, type TimedStep } from './script.ts';

export interface PlayOptions {
  gateway: GatewayRecord;
  engine: EngineOptions;
  /** Epoch ms of the script's second 0. */
  startMs: number;
  /** N× real time; 0 = as fast as possible. */
  speed: number;
  onProgress?: (progress: PlayProgress) => void;
}
export interface PlayProgress {
  steps: number;
  total: number;
  events: number;
  atS: number;
}
export interface PlayResult {
  steps: number;
  events: number;
  rejected: { id: string; reason: string }[];
  startMs: number;
  endMs: number;
}

export async function importDirectory(store: Store, directory: Directory): Promise<void> {
  await store.transaction(async (tx) => {
    await importAddressesCsv(tx, directory.addresses);
    if (directory.units) await importUnitsCsv(tx, directory.units);
    if (directory.rules) await importRulesCsv(tx, directory.rules);
  });
}

function edgeRules(script: Script, clock: { now(): number }): RuleEngine | null {
  if (!script.edge || script.edge.devices.length === 0) return null;
  const { profiles } = loadProfiles();
  const devices = script.edge.devices.map((d) => {
    const loaded = profiles.get(d.profileId);
    if (!loaded) throw new ScriptError(`edge.devices ${d.deviceId}: unknown profile ${d.profileId}`);
    return { deviceId: d.deviceId, profile: loaded.profile, addressId: d.addressId };
  });
  return new RuleEngine({ devices, store: new MemoryRuleStore(), clock }).init();
}

/** What the edge would send for this step: its timers, then the report's readings. */
function edgeDrafts(rules: RuleEngine | null, step: TimedStep, nowMs: number): EventDraft[] {
  if (!rules) {
    if ('report' in step) throw new ScriptError(`device report for ${step.report.device} at ${step.at} s, but the script has no edge.devices`);
    return [];
  }
  const drafts = rules.tick(nowMs);
  if ('report' in step) {
    const readings = Object.entries(step.report.readings).map(([point, value]) => ({ deviceId: step.report.device, point, value, t: nowMs }));
    drafts.push(...rules.evaluate(step.report.device, readings, nowMs));
  }
  return drafts;
}

function scriptedEvent(step: TimedStep, nowMs: number): Omit<AlarmEvent, 'id' | 'seq'> | null {
  if ('report' in step) return null;
  return {
    deviceId: step.device,
    profileId: 'rehearsal/script',
    alarmType: step.type,
    action: step.action,
    level: step.level,
    reason: `${step.type} ${step.action} (scripted at ${step.at} s)`,
    edgeTime: nowMs,
    ...(step.address ? { addressId: step.address } : {}),
    ...(step.chattering ? { chattering: true } : {}),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Plays the script into `store` (migrated, gateway registered, directory imported). */
export async function playScript(store: Store, script: Script, options: PlayOptions): Promise<PlayResult> {
  const { gateway, engine, startMs, speed } = options;
  const steps = expandSteps(script.steps);
  let nowMs = startMs;
  const rules = edgeRules(script, { now: () => nowMs });
  // The cloud on the same rehearsal clock: deadlines start at the scripted time, not the wall clock.
  const onClock: EngineOptions = { ...engine, clock: () => nowMs };
  const result: PlayResult = { steps: steps.length, events: 0, rejected: [], startMs, endMs: startMs + script.end * 1000 };
  const wallStart = Date.now();
  let timersAt = Number.NEGATIVE_INFINITY;
  for (const [index, step] of steps.entries()) {
    nowMs = startMs + step.at * 1000;
    if (speed > 0) await sleep(Math.max(0, (step.at * 1000) / speed - (Date.now() - wallStart)));
    if (nowMs !== timersAt) await runAlarmPolicyTimers(store, onClock, nowMs);
    timersAt = nowMs;
    const scripted = scriptedEvent(step, nowMs);
    const drafts: Omit<AlarmEvent, 'id' | 'seq'>[] = [...edgeDrafts(rules, step, nowMs), ...(scripted ? [scripted] : [])];
    if (drafts.length > 0) {
      const events = drafts.map((d): AlarmEvent => {
        result.events += 1;
        return { ...d, id: `${gateway.gatewayId}:${result.events}`, seq: result.events };
      });
      const applied = await store.transaction((tx) => applyEvents(tx, gateway, events, onClock));
      result.rejected.push(...applied.rejected.map((r) => ({ id: r.id, reason: r.reason })));
    }
    options.onProgress?.({ steps: index + 1, total: steps.length, events: result.events, atS: step.at });
  }
  nowMs = result.endMs;
  await runAlarmPolicyTimers(store, onClock, nowMs);
  return result;
}
