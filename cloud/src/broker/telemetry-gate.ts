// Back-pressure for telemetry through the embedded broker (issue 12). aedes PUBACKs a QoS 1
// PUBLISH before forwarding it (aedes lib/handlers/publish.js) and forwards through mqemitter,
// whose `concurrency` slots every topic shares: telemetry blocked on ingest's full socket held
// those slots and alarms of every gateway queued behind it. The gate admits a gateway's QoS 1
// telemetry only while each consumer (ingest's telemetry client) has fewer than `window` telemetry
// messages delivered and not yet PUBACKed (ingest PUBACKs after the TSDB sink accepted a batch).
// A held authorizePublish withholds the gateway's PUBACK and aedes stops reading its socket, so the
// gateway's telemetry lane holds instead of cloud memory growing. A message held longer than
// `holdMs` is acknowledged and dropped by policy (counted). The broker reads a gateway's connection
// on while up to 2 of its telemetry messages wait here (broker.ts readOn), so its alarms behind
// them are not held; only past that allowance does the connection wait too.
import { Counter, Gauge, type Registry } from 'prom-client';

export type GateDropReason = 'held_too_long' | 'consumer_lost';

export interface TelemetryGateOptions {
  /** Telemetry messages per consumer delivered and not yet PUBACKed. */
  window: number;
  /** Longest a gateway's telemetry message waits for room before it is dropped by policy. */
  holdMs: number;
  registry: Registry;
  onDrop?: (reason: GateDropReason, messages: number) => void;
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

/** Looked up before creating, so a broker restarted on the same registry (tests) reuses them. */
function droppedCounter(registry: Registry): Counter<'reason'> {
  const name = 'gridwatch_telemetry_gate_dropped_messages_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'reason'>;
  return new Counter({ name, help: 'Telemetry messages the embedded broker dropped by policy (held too long for room at ingest, or unacknowledged when ingest lost its connection)', labelNames: ['reason'], registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({ name, help, registers: [registry] });
}

/** Consumers are opaque keys (aedes clients); the broker tells the gate who consumes and who acked. */
export class TelemetryGate<K extends object = object> {
  private readonly outstanding = new Map<K, number>();
  private readonly waiters: Waiter[] = [];
  readonly dropped: Counter<'reason'>;
  private readonly waitingGauge: Gauge;
  private readonly inFlightGauge: Gauge;

  constructor(private readonly options: TelemetryGateOptions) {
    if (options.window < 1) throw new Error(`telemetry gate: window must be >= 1 (${options.window})`);
    this.dropped = droppedCounter(options.registry);
    this.waitingGauge = gauge(options.registry, 'gridwatch_telemetry_gate_waiting', 'Gateway telemetry messages the embedded broker holds (PUBACK withheld) until ingest has room');
    this.inFlightGauge = gauge(options.registry, 'gridwatch_telemetry_gate_in_flight', 'Telemetry messages delivered to ingest and not yet acknowledged by it');
  }

  private report(): void {
    this.waitingGauge.set(this.waiters.length);
    this.inFlightGauge.set(this.inFlight);
  }

  /** Messages delivered to consumers and not yet acknowledged, summed. */
  get inFlight(): number {
    let n = 0;
    for (const v of this.outstanding.values()) n += v;
    return n;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  private get hasRoom(): boolean {
    for (const v of this.outstanding.values()) if (v >= this.options.window) return false;
    return true;
  }

  /** Takes a slot now if one is free and nobody waits for one (then true); false = the caller must wait (admit). */
  tryAdmit(): boolean {
    if (this.outstanding.size === 0) return true;
    if (this.waiters.length > 0 || !this.hasRoom) return false;
    this.take();
    return true;
  }

  /**
   * Resolves true once the message may be forwarded (a slot per consumer is taken), false when it
   * waited `holdMs` and is to be dropped. Without a consumer nothing can hold a slot: admitted.
   */
  admit(): Promise<boolean> {
    if (this.tryAdmit()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve(true);
        },
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          this.report();
          this.drop('held_too_long', 1);
          resolve(false);
        }, this.options.holdMs),
      };
      this.waiters.push(waiter);
      this.report();
    });
  }

  /** A service client subscribed to telemetry at QoS 1: from now on it holds slots. */
  addConsumer(consumer: K): void {
    if (!this.outstanding.has(consumer)) this.outstanding.set(consumer, 0);
  }

  /** The consumer PUBACKed one telemetry message. */
  acked(consumer: K): void {
    const n = this.outstanding.get(consumer);
    if (n === undefined) return;
    this.outstanding.set(consumer, Math.max(0, n - 1));
    this.wake();
  }

  /** Its connection closed: a clean session's unacknowledged messages are gone (counted). */
  removeConsumer(consumer: K): void {
    const n = this.outstanding.get(consumer);
    if (n === undefined) return;
    this.outstanding.delete(consumer);
    if (n > 0) this.drop('consumer_lost', n);
    this.wake();
  }

  /** Gives back the slot an admitted message took when it will not be delivered (its gateway left meanwhile). */
  release(): void {
    for (const [k, v] of this.outstanding) this.outstanding.set(k, Math.max(0, v - 1));
    this.wake();
  }

  /** Lets every waiter through (broker stopping). */
  close(): void {
    this.outstanding.clear();
    this.wake();
  }

  private take(): void {
    for (const [k, v] of this.outstanding) this.outstanding.set(k, v + 1);
    this.report();
  }

  private wake(): void {
    while (this.waiters.length > 0 && (this.outstanding.size === 0 || this.hasRoom)) {
      const waiter = this.waiters.shift()!;
      if (this.outstanding.size > 0) this.take();
      waiter.admit();
    }
    this.report();
  }

  private drop(reason: GateDropReason, messages: number): void {
    this.dropped.inc({ reason }, messages);
    this.options.onDrop?.(reason, messages);
  }
}
