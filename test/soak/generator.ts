// Raises and clears alarms at a steady rate: every tick, the idle device that has waited longest
// past its due time makes its next change (raise after clear, clear after raise), only after its
// previous change was acknowledged. Half the clears follow their raise within 0.2–1.5 s (a toast
// under a detector): a raise still unacknowledged by the cloud when its clear goes out is what
// exposes apply-order bugs. Raises of one source are at least `raisePeriodMs` apart: the edge flags
// a source raising more than 3 times in 60 s as chattering (ISA-18.2 §11.5) and holds back its
// clears, which is policy, not loss.
import { ALARM_TYPE, type SoakDevice } from './detectors.ts';
import { sourceKey, type Change, type Ledger } from './ledger.ts';
import type { Random } from './prng.ts';
import { sleep } from './wait.ts';

export interface GeneratorOptions {
  tickMs: number;
  raisePeriodMs: number;
  random: Random;
  /** How long a device waits for the acknowledgement of one change before it gives up. */
  ackDeadlineMs: number;
  log: (line: string) => void;
}

interface Slot {
  device: SoakDevice;
  busy: boolean;
  /** Gave up waiting for an ack: makes no further change. */
  stuck: boolean;
  /** Earliest time of the next change. */
  dueAt: number;
  lastRaiseAt: number;
}

export class AlarmGenerator {
  private readonly slots: Slot[];
  private readonly ledger: Ledger;
  private readonly options: GeneratorOptions;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(devices: readonly SoakDevice[], ledger: Ledger, options: GeneratorOptions) {
    this.slots = devices.map((device) => ({ device, busy: false, stuck: false, dueAt: 0, lastRaiseAt: 0 }));
    this.ledger = ledger;
    this.options = options;
  }

  start(): void {
    // Staggered so the changes come at a steady rate instead of all devices at once.
    const now = Date.now();
    const step = this.options.raisePeriodMs / 2 / Math.max(1, this.slots.length);
    this.slots.forEach((s, i) => (s.dueAt = now + i * step));
    this.timer = setInterval(() => {
      const slot = this.eligible(() => true);
      if (slot) void this.change(slot);
    }, this.options.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get pending(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  get stuck(): string[] {
    return this.slots.filter((s) => s.stuck).map((s) => s.device.deviceId);
  }

  /**
   * Waits (at most `timeoutMs`) for an eligible device matching `filter`, makes its next change and
   * returns once it is acknowledged, with the change; null when none became eligible in time.
   */
  async changeOne(filter: (d: SoakDevice) => boolean, timeoutMs: number): Promise<{ device: SoakDevice; change: Change } | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const slot = this.eligible(filter);
      if (slot) {
        const change = await this.change(slot);
        return change ? { device: slot.device, change } : null;
      }
      await sleep(50);
    }
    return null;
  }

  /** Waits until every change made so far is acknowledged (or its device gave up). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private eligible(filter: (d: SoakDevice) => boolean): Slot | undefined {
    const now = Date.now();
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.busy || s.stuck || s.dueAt > now || !filter(s.device)) continue;
      if (!best || s.dueAt < best.dueAt) best = s;
    }
    return best;
  }

  private schedule(slot: Slot, done: Change): void {
    const { random, raisePeriodMs } = this.options;
    const now = Date.now();
    if (done.action === 'raise') {
      // From the acknowledgement, not from when the device made it: the edge may see a raise seconds
      // late (a restart, a poll after a cut link) and the next one promptly; spaced from the making,
      // four raises then fell within 60 s and the edge rightly held the source as chattering for the
      // rest of a 1,000-cycle run (2026-12-01: 3,315 changes folded by policy, counted as lost).
      slot.lastRaiseAt = done.ackedAt ?? done.madeAt;
      slot.dueAt = now + (random.next() < 0.5 ? random.int(200, 1500) : random.int(3000, raisePeriodMs / 2));
    } else {
      slot.dueAt = Math.max(now + 1000, slot.lastRaiseAt + raisePeriodMs);
    }
  }

  private async change(slot: Slot): Promise<Change | null> {
    const { device } = slot;
    slot.busy = true;
    const change = this.ledger.next(sourceKey(device.gatewayId, device.deviceId, ALARM_TYPE));
    const acked = device.apply(change, Date.now() + this.options.ackDeadlineMs).then(
      () => {
        change.ackedAt = Date.now();
      },
      (err: unknown) => {
        slot.stuck = true;
        this.options.log(`device ${device.deviceId} gave up: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    this.inFlight.add(acked);
    await acked;
    this.inFlight.delete(acked);
    slot.busy = false;
    this.schedule(slot, change);
    return change.ackedAt === null ? null : change;
  }
}
