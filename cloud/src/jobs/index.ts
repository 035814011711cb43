// The cloud's timers: one job each for deadlines, push deliveries and gateway supervision. Every
// replica runs all three; the rows they work on are claimed with SKIP LOCKED, so the work is
// shared, never duplicated. Only cloud.ts imports this folder.
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import type { ChannelRegistry } from '../dispatch/channels/index.ts';
import type { EngineOptions, Outcome } from '../incidents/outcome.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { deadlinesJob } from './deadlines.ts';
import { deliveriesJob } from './deliveries.ts';
import type { PeriodicJob } from './job.ts';
import { supervisionJob } from './supervision.ts';
import { alarmPolicyJob } from './alarm-policy.ts';
import { shelvingJob } from './shelving.ts';

export { PeriodicJob } from './job.ts';

export interface Jobs {
  readonly deadlines: PeriodicJob;
  readonly deliveries: PeriodicJob;
  readonly supervision: PeriodicJob;
  start(): void;
  stop(): Promise<void>;
}

export interface JobsOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  config: Pick<CloudConfig, 'tickMs' | 'heartbeatTimeoutS' | 'webhookMaxAttempts' | 'webhookBackoffMs'>;
  onOutcome: (outcome: Outcome) => void;
  channels?: ChannelRegistry;
}

export function createJobs(options: JobsOptions): Jobs {
  const { store, engine, metrics, config, onOutcome } = options;
  const log = (job: string): Logger => options.log.child({ job });
  const everyMs = config.tickMs;
  const deadlines = deadlinesJob({ store, engine, metrics, log: log('deadlines'), everyMs, onOutcome });
  const deliveries = deliveriesJob({
    store,
    metrics,
    log: log('deliveries'),
    everyMs,
    maxAttempts: config.webhookMaxAttempts,
    backoffMs: config.webhookBackoffMs,
    ...(options.channels ? { channels: options.channels } : {}),
  });
  const supervision = supervisionJob({ store, engine, metrics, log: log('supervision'), everyMs, heartbeatTimeoutS: config.heartbeatTimeoutS, onOutcome });
  const all = [
    deadlines,
    deliveries,
    supervision,
    alarmPolicyJob({ store, engine, metrics, log: log('alarm-policy'), everyMs, onOutcome }),
    shelvingJob({ store, engine, metrics, log: log('shelving'), everyMs, onOutcome }),
  ];
  return {
    deadlines,
    deliveries,
    supervision,
    start: () => all.forEach((job) => job.start()),
    stop: async () => void (await Promise.all(all.map((job) => job.stop()))),
  };
}
