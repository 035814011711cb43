// Deadlines job: fires due acknowledge/arrive/resolve deadlines (incidents/deadlines.ts claims them
// with SKIP LOCKED, so every replica runs this job and each deadline fires once) and counts them.
import type { Logger } from 'pino';
import { fireDueDeadlines } from '../incidents/deadlines.ts';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { PeriodicJob } from './job.ts';

export interface DeadlinesJobOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  onOutcome: (outcome: Outcome) => void;
}

const BATCH = 50;

export function deadlinesJob(options: DeadlinesJobOptions): PeriodicJob {
  const { store, engine, metrics, onOutcome } = options;
  return new PeriodicJob({
    task: 'deadlines',
    everyMs: options.everyMs,
    metrics,
    log: options.log,
    async round(stopping) {
      for (;;) {
        const outcome = new Outcome();
        const fired = await fireDueDeadlines(store, engine, outcome, BATCH);
        for (const f of fired) {
          metrics.deadlinesMissed.inc({ kind: f.kind });
          if (f.escalatedTo) metrics.escalations.inc({ tier: f.escalatedTo });
        }
        onOutcome(outcome);
        if (fired.length < BATCH || stopping()) break;
      }
    },
  });
}
