// The per-process ticker: fires due deadlines, pushes webhook deliveries and checks gateway
// heartbeats. Every replica runs one; the rows it works on are claimed with SKIP LOCKED, so the
// work is shared, never duplicated. A failed round is counted and retried at the next tick.
import type { Logger } from 'pino';
import { pushWebhooks } from '../dispatch/webhook.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { checkHeartbeats } from '../supervision/gateways.ts';
import { fireDueDeadlines } from './deadlines.ts';
import { Outcome, type EngineOptions } from './outcome.ts';

export interface TickerOptions {
  store: Store;
  engine: EngineOptions;
  metrics: CloudMetrics;
  log: Logger;
  tickMs: number;
  heartbeatTimeoutS: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  onOutcome: (outcome: Outcome) => void;
}

const DEADLINE_BATCH = 50;

export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(private readonly options: TickerOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.tickMs);
  }

  /** Runs a round now (or right after the current one): e.g. when a webhook delivery was queued. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async task(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (this.stopped) return;
      this.options.metrics.tickerErrors.inc({ task: name });
      this.options.log.warn({ err, task: name }, 'ticker task failed; retried next tick');
    }
  }

  private async round(): Promise<void> {
    const { store, engine, metrics, onOutcome } = this.options;
    await this.task('deadlines', async () => {
      for (;;) {
        const outcome = new Outcome();
        const fired = await fireDueDeadlines(store, engine, outcome, DEADLINE_BATCH);
        for (const f of fired) {
          metrics.deadlinesMissed.inc({ kind: f.kind });
          if (f.escalatedTo) metrics.escalations.inc({ tier: f.escalatedTo });
        }
        onOutcome(outcome);
        if (fired.length < DEADLINE_BATCH || this.stopped) break;
      }
    });
    if (this.options.heartbeatTimeoutS > 0) {
      await this.task('heartbeats', async () => {
        const outcome = new Outcome();
        await checkHeartbeats(store, this.options.heartbeatTimeoutS, engine, outcome);
        onOutcome(outcome);
      });
    }
    await this.task('webhooks', async () => {
      const onDelivered = (ok: boolean): void => void metrics.webhookDeliveries.inc({ result: ok ? 'ok' : 'failed' });
      await pushWebhooks(store, { maxAttempts: this.options.webhookMaxAttempts, backoffMs: this.options.webhookBackoffMs, log: this.options.log, onDelivered });
    });
  }
}
