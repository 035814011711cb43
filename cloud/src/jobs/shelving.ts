// Shelving job: shelves that have run out return to the board (incidents/shelving.ts; audit
// `unshelve`, actor system) with their paused deadlines resumed, and the change goes out live
// (socket.io, dispatch updates) through onOutcome. The clock is injectable (`now`) like the
// alarm-policy job's, so a rehearsal runs the same code at any speed; rows are claimed with
// SKIP LOCKED, so every replica runs it.
import type { Logger } from 'pino';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import { unshelveExpired } from '../incidents/shelving.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { PeriodicJob } from './job.ts';

export interface ShelvingJobOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  onOutcome: (outcome: Outcome) => void;
  now?: () => number;
}

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
