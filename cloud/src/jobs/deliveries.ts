// Deliveries job: pushes due dispatch messages through the registered channels
// (dispatch/deliveries.ts, dispatch/channels/index.ts). Kicked as soon as this process queues a
// message, and every tick for retries, other replicas' rows and expired leases.
import type { Logger } from 'pino';
import { DEFAULT_CHANNELS, type ChannelRegistry } from '../dispatch/channels/index.ts';
import { pushDeliveries } from '../dispatch/deliveries.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { PeriodicJob } from './job.ts';

export interface DeliveriesJobOptions {
  store: Store;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  maxAttempts: number;
  backoffMs: number;
  channels?: ChannelRegistry;
}

export function deliveriesJob(options: DeliveriesJobOptions): PeriodicJob {
  const { store, metrics, log } = options;
  const delivery = {
    channels: options.channels ?? DEFAULT_CHANNELS,
    maxAttempts: options.maxAttempts,
    backoffMs: options.backoffMs,
    log,
    // The counter predates the channel seam: its name stays, it counts every channel's attempts.
    onDelivered: (_channel: string, ok: boolean) => void metrics.webhookDeliveries.inc({ result: ok ? 'ok' : 'failed' }),
  };
  return new PeriodicJob({
    task: 'webhooks',
    everyMs: options.everyMs,
    metrics,
    log,
    async round() {
      await pushDeliveries(store, delivery);
    },
  });
}
