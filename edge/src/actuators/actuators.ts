// Local actuation: an alarm drives an output (siren coil, relay, a serial command) at once, with or
// without the uplink. Each target point is rate-limited (a chattering input cannot hammer a relay:
// a newer value within `minIntervalMs` is written when the interval ends, only the latest one) and
// every write is confirmed by read-back: the target's next report must show the value within
// `confirmWithinMs`, else it is written once more and, still unconfirmed, reported.
import type { Logger } from 'pino';
import type { AlarmEvent, Reading } from '@gridwatch/protocol';
import type { ActuatorConfig } from '../config/index.ts';
import type { Command } from '../drivers/types.ts';
import type { EdgeMetrics } from '../metrics.ts';

/** What actuation needs of an alarm change; committed events carry their id too. */
export type AlarmChange = Pick<AlarmEvent, 'deviceId' | 'alarmType' | 'action'> & { id?: string };

export interface ActuatorsOptions {
  actuators: readonly ActuatorConfig[];
  write: (deviceId: string, commands: readonly Command[]) => Promise<void>;
  /** Asks the target's driver for a read soon (polled buses); push transports may ignore it. */
  read: (deviceId: string) => Promise<void>;
  logger: Logger;
  metrics: EdgeMetrics;
}

interface Target {
  device: string;
  point: string;
  minIntervalMs: number;
  confirmWithinMs: number;
  lastWriteAt: number;
  pending: boolean | number | null;
  timer: NodeJS.Timeout | null;
  expect: { value: boolean | number; attempt: number; timer: NodeJS.Timeout; since: number } | null;
}

export class Actuators {
  private readonly options: ActuatorsOptions;
  private readonly targets = new Map<string, Target>();
  private stopped = false;

  constructor(options: ActuatorsOptions) {
    this.options = options;
  }

  private target(a: ActuatorConfig): Target {
    const k = `${a.target.device}\u0000${a.target.point}`;
    let t = this.targets.get(k);
    if (!t) {
      t = { device: a.target.device, point: a.target.point, minIntervalMs: a.minIntervalMs, confirmWithinMs: a.confirmWithinMs, lastWriteAt: -Infinity, pending: null, timer: null, expect: null };
      this.targets.set(k, t);
    }
    return t;
  }

  /** Alarm changes as the rules decide them (before they are committed, so a slow or failing disk never delays a siren): drive the outputs they map to. */
  onEvents(events: readonly AlarmChange[]): void {
    if (this.stopped) return;
    for (const event of events) {
      for (const a of this.options.actuators) {
        if (a.when.device !== event.deviceId || a.when.alarmType !== event.alarmType) continue;
        const value = event.action === 'raise' ? a.onRaise : a.onClear;
        if (value === undefined) continue;
        this.set(this.target(a), value, event.id ?? `${event.deviceId}/${event.alarmType}/${event.action}`);
      }
    }
  }

  /** Decoded reports: confirm writes by read-back. */
  onReadings(deviceId: string, readings: readonly Reading[]): void {
    for (const t of this.targets.values()) {
      if (t.device !== deviceId || !t.expect) continue;
      const reading = readings.find((r) => r.point === t.point);
      if (!reading) continue;
      const expected = t.expect.value;
      const ok = typeof expected === 'number' && typeof reading.value === 'number' ? Math.abs(reading.value - expected) < 1e-6 : reading.value === expected;
      if (!ok) continue;
      clearTimeout(t.expect.timer);
      this.options.metrics.actuations.inc({ result: 'confirmed' });
      this.options.logger.info({ deviceId, point: t.point, value: expected, ms: Date.now() - t.expect.since }, 'actuation confirmed');
      t.expect = null;
    }
  }

  private set(t: Target, value: boolean | number, cause: string): void {
    const wait = t.lastWriteAt + t.minIntervalMs - Date.now();
    if (wait <= 0 && !t.timer) {
      void this.write(t, value, 1, cause);
      return;
    }
    this.options.metrics.actuations.inc({ result: 'rate_limited' });
    t.pending = value;
    t.timer ??= setTimeout(() => {
      t.timer = null;
      const next = t.pending;
      t.pending = null;
      if (next !== null && !this.stopped) void this.write(t, next, 1, cause);
    }, Math.max(0, wait));
  }

  private async write(t: Target, value: boolean | number, attempt: number, cause: string): Promise<void> {
    const { logger, metrics } = this.options;
    t.lastWriteAt = Date.now();
    if (t.expect) clearTimeout(t.expect.timer);
    const since = Date.now();
    t.expect = {
      value,
      attempt,
      since,
      timer: setTimeout(() => {
        if (this.stopped || !t.expect) return;
        t.expect = null;
        if (attempt < 2) {
          logger.warn({ deviceId: t.device, point: t.point, value }, 'actuation not confirmed by read-back; writing again');
          void this.write(t, value, attempt + 1, cause);
        } else {
          metrics.actuations.inc({ result: 'unconfirmed' });
          logger.error({ deviceId: t.device, point: t.point, value }, 'actuation not confirmed by read-back');
        }
      }, t.confirmWithinMs),
    };
    try {
      await this.options.write(t.device, [{ point: t.point, value }]);
      metrics.actuations.inc({ result: 'written' });
      logger.info({ deviceId: t.device, point: t.point, value, cause, ms: Date.now() - since }, 'actuation written');
      await this.options.read(t.device).catch(() => undefined);
    } catch (err) {
      metrics.actuations.inc({ result: 'failed' });
      logger.error({ deviceId: t.device, point: t.point, value, err: (err as Error).message }, 'actuation failed');
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.targets.values()) {
      if (t.timer) clearTimeout(t.timer);
      if (t.expect) clearTimeout(t.expect.timer);
      t.timer = null;
      t.expect = null;
    }
  }
}
