// Alarm-policy job: the timers of the alarm management policy (incidents/policy.ts) — flood notices
// close once their members have been quiet for the policy's quiet time, and (with verification on)
// a smoke pre-alarm still active after the verification time becomes the dispatch. The clock is
// injectable (`now`), so a rehearsal runs the same code at any speed.
import type { Logger } from 'pino';
import { closeQuietFloods } from '../incidents/flood.ts';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import { DEFAULT_ALARM_POLICY } from '../incidents/policy.ts';
import { promoteDuePreAlarms } from '../incidents/verification.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { PeriodicJob } from './job.ts';

export interface AlarmPolicyJobOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  onOutcome: (outcome: Outcome) => void;
  now?: () => number;
}

/** One round of the policy's timers at `nowMs`, in one transaction; what changed is in the outcome. */
export async function runAlarmPolicyTimers(store: Store, engine: EngineOptions, nowMs: number): Promise<Outcome> {
  const outcome = new Outcome();
  await store.transaction(async (tx) => {
    await closeQuietFloods(tx, nowMs, engine.alarmPolicy ?? DEFAULT_ALARM_POLICY, outcome);
    await promoteDuePreAlarms(tx, nowMs, engine, outcome);
  });
  return outcome;
}

export function alarmPolicyJob(options: AlarmPolicyJobOptions): PeriodicJob {
  const { store, engine, onOutcome } = options;
  const now = options.now ?? Date.now;
  return new PeriodicJob({
    task: 'alarm_policy',
    everyMs: options.everyMs,
    metrics: options.metrics,
    log: options.log,
    async round() {
      onOutcome(await runAlarmPolicyTimers(store, engine, now()));
    },
  });
}
