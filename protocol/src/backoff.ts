// The one exponential back-off of the project: reconnects (uplink, serial ports, a Modbus bus),
// silent Modbus devices and webhook retries all wait base·2^attempt, capped, so one failing peer
// is retried ever less often and never hammered (CONVENTIONS 8: transient errors retried with
// back-off).

export interface BackoffPolicy {
  /** Delay after the first failure (attempt 0). */
  baseMs: number;
  /** Cap of the delay. */
  maxMs: number;
  /**
   * Fraction of the delay taken off at random (0 = none, 0.5 = 50–100 % of it), so a fleet that
   * lost its link at one instant does not reconnect in step.
   */
  jitter?: number;
}

/** Milliseconds to wait before retry number `attempt + 1` (attempt 0 waits `baseMs`). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const { baseMs, maxMs, jitter = 0 } = policy;
  if (!(attempt >= 0)) throw new RangeError(`back-off attempt must be >= 0, got ${attempt}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`back-off jitter must be within 0..1, got ${jitter}`);
  // 2^52 keeps the product finite for any base; the cap applies long before.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 52));
  return jitter === 0 ? ceiling : Math.round(ceiling * (1 - jitter * random()));
}
