// Notifications job (issue #14): each round walks unacknowledged incidents up their escalation
// chains (notify/plan.ts) and sends the due notifications (notify/deliver.ts). Time comes from an
// injectable clock, so a test or a rehearsal walks a chain at speed; the rows are claimed with
// SKIP LOCKED, so every replica runs this job.
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { CloudMetrics } from '../metrics.ts';
import { linkKey } from '../notify/ack.ts';
import type { NotifySender } from '../notify/channel.ts';
import { DEFAULT_NOTIFY_CHANNELS, type NotifyChannelRegistry } from '../notify/channels/index.ts';
import { loadNotifyConfig, type NotifyConfig } from '../notify/config.ts';
import { deliverDue } from '../notify/deliver.ts';
import { cancelStopped, planNotifications } from '../notify/plan.ts';
import type { Store } from '../store/store.ts';
import { PeriodicJob } from './job.ts';

export interface NotificationsJobOptions {
  store: Store;
  config: NotifyConfig;
  linkKey: string;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  now?: () => number;
  channels?: NotifyChannelRegistry;
}

const BATCH = 50;
const METRIC = 'gridwatch_notifications_total';

function attemptsCounter(metrics: CloudMetrics): Counter<'channel' | 'result'> {
  const existing = metrics.registry.getSingleMetric(METRIC);
  if (existing) return existing as Counter<'channel' | 'result'>;
  return new Counter({ name: METRIC, help: 'Notification attempts by channel and result (sent, retry, dead, rate_limited)', labelNames: ['channel', 'result'] as const, registers: [metrics.registry] });
}

/** Binds every configured channel (credentials read here, once): a bad setting fails at start-up. */
export function createSenders(config: NotifyConfig, channels: NotifyChannelRegistry = DEFAULT_NOTIFY_CHANNELS): Map<string, NotifySender> {
  return new Map(Object.entries(config.channels).map(([id, settings]) => [id, channels.createSender(id, settings)]));
}

export function notificationsJob(options: NotificationsJobOptions): PeriodicJob {
  const { store, config, log } = options;
  const now = options.now ?? Date.now;
  const senders = createSenders(config, options.channels);
  const counter = attemptsCounter(options.metrics);
  const horizonMs = Math.max(0, ...config.chains.flatMap((c) => c.steps.map((s) => s.afterS))) * 1000 + 3_600_000;
  const deps = { store, config, senders, linkKey: options.linkKey, log, now, onAttempt: (channel: string, result: string) => counter.inc({ channel, result }) };
  return new PeriodicJob({
    task: 'notifications',
    everyMs: options.everyMs,
    metrics: options.metrics,
    log,
    async round(stopping) {
      await cancelStopped(store);
      await planNotifications(store, config, now(), horizonMs);
      while (!stopping() && (await deliverDue(deps, BATCH)) === BATCH);
    },
  });
}

export interface ConfiguredNotificationsOptions {
  store: Store;
  metrics: CloudMetrics;
  log: Logger;
  everyMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts the job when GRIDWATCH_NOTIFY_CONFIG names a notification config file (validated here,
 * at start-up: a bad file stops the cloud with the path and the problem). Returns its stop.
 */
export async function startConfiguredNotifications(options: ConfiguredNotificationsOptions): Promise<() => Promise<void>> {
  const file = (options.env ?? process.env).GRIDWATCH_NOTIFY_CONFIG;
  if (!file) return async () => {};
  const config = loadNotifyConfig(file);
  const job = notificationsJob({ store: options.store, config, linkKey: await linkKey(options.store, options.env), metrics: options.metrics, log: options.log, everyMs: options.everyMs });
  job.start();
  options.log.info({ file, channels: Object.keys(config.channels), chains: config.chains.length }, 'notifications started');
  return () => job.stop();
}
