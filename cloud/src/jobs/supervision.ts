// Supervision job: gateways silent for longer than the heartbeat timeout go offline and open
// their incident (supervision/gateways.ts; EN 50136-1 wants a path failure reported within 20 s,
// the job runs every tick). The silence check is off when heartbeatTimeoutS is 0; the gateway-offline
// hold-off and restore time run every tick regardless.
import type { Logger } from 'pino';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { checkHeartbeats } from '../supervision/gateways.ts';
import { PeriodicJob } from './job.ts';

export interface SupervisionJobOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  heartbeatTimeoutS: number;
  onOutcome: (outcome: Outcome) => void;
}

export function supervisionJob(options: SupervisionJobOptions): PeriodicJob {
  const { store, engine, heartbeatTimeoutS, onOutcome } = options;
  return new PeriodicJob({
    task: 'heartbeats',
    everyMs: options.everyMs,
    metrics: options.metrics,
    log: options.log,
    async round() {
      // Every round, also without a heartbeat timeout: the offline hold-off and restore time
      // (supervision/gateways.ts) are served here.
      const outcome = new Outcome();
      await checkHeartbeats(store, heartbeatTimeoutS, engine, outcome);
      onOutcome(outcome);
    },
  });
}
