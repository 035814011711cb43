// One periodic job: runs `round` every `everyMs` and on kick(), never two rounds at once (a kick
// during a round runs one more right after). A failed round is counted in
// gridwatch_ticker_errors_total{task} and retried at the next tick. stop() clears the timer and
// waits for the round in flight, so nothing of the job runs after it resolves.
import type { Logger } from 'pino';
import type { CloudMetrics } from '../metrics.ts';

export interface JobOptions {
  /** Label of the error counter and the log. */
  task: string;
  everyMs: number;
  metrics: CloudMetrics;
  log: Logger;
  /** One round of work; `stopping()` turns true once stop() was called (end a batch loop early). */
  round: (stopping: () => boolean) => Promise<void>;
}

export class PeriodicJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(private readonly options: JobOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.everyMs);
  }

  /** Runs a round now, or right after the current one. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the timer is gone and no round is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.again = false;
    await this.running;
  }

  get active(): boolean {
    return this.timer !== null || this.running !== null;
  }

  private async runOnce(): Promise<void> {
    const { task, metrics, log, round } = this.options;
    try {
      await round(() => this.stopped);
    } catch (err) {
      if (this.stopped) return;
      metrics.tickerErrors.inc({ task });
      log.warn({ err, task }, 'job round failed; retried next tick');
    }
  }
}
