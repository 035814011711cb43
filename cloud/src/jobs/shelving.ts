// Shelving job: shelves that have run out return to the board (incidents/shelving.ts; audit
// `unshelve`, actor system) with their paused deadlines resumed, and the change goes out live
// (socket.io, dispatch updates) through onOutcome. The clock is injectable (`now`) like the
// alarm-policy job's, so a rehearsal runs the same code at any speed; rows are claimed with
// SKIP LOCKED, so every replica runs it.
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import { unshelveExpired } from '../incidents/shelving.ts';
import type { Store } from '../store/store.ts';
import type { AlarmPolicyJobOptions } from './alarm-policy.ts';
import { PeriodicJob } from './job.ts';

/** The same inputs as the other engine timer job (alarm policy). */
export type ShelvingJobOptions = AlarmPolicyJobOptions;

/** One round at `nowMs`, in one transaction; what returned is in the outcome. */
export async function runShelvingTimers(store: Store, engine: EngineOptions, nowMs: number): Promise<Outcome> {
  const outcome = new Outcome();
  await store.transaction((tx) => unshelveExpired(tx, nowMs, engine, outcome));
  return outcome;
}

export function shelvingJob(options: ShelvingJobOptions): PeriodicJob {
  const { store, engine, onOutcome } = options;
  const now = options.now ?? Date.now;
  return new PeriodicJob({
    task: 'shelving',
    everyMs: options.everyMs,
    metrics: options.metrics,
    log: options.log,
    async round() {
      onOutcome(await runShelvingTimers(store, engine, now()));
    },
  });
}
