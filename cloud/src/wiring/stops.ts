// Each started part registers its stop here, so a failure half-way unwinds what already runs and
// stop() runs in reverse start order.
import type { Logger } from 'pino';

export class Stops {
  private readonly stops: (() => Promise<void>)[] = [];

  constructor(private readonly log: Logger) {}

  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async unwind(): Promise<void> {
    for (const stop of this.stops.reverse()) {
      await stop().catch((err: unknown) => this.log.error({ err }, 'stop failed'));
    }
    this.stops.length = 0;
  }
}
