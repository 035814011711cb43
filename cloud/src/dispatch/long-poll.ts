// Long-poll claim: lease what is ready, else wait up to `waitMs` for this process's next enqueue
// (an event) or the next step (other replicas' rows and expired leases are found by polling).
import type { EventEmitter } from 'node:events';
import type { Store } from '../store/store.ts';
import { claim, type DispatchMessage } from './queue.ts';

const LONG_POLL_STEP_MS = 250;

export interface LongPoll {
  max: number;
  leaseS: number;
  waitMs: number;
  /** True once the caller has gone away (socket closed): stop polling. */
  gone: () => boolean;
}

function nextWake(signal: EventEmitter, waitMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.off('queued', done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    signal.on('queued', done);
  });
}

/** Messages leased (possibly none, when the wait ran out or the caller left). */
export async function claimWaiting(store: Store, queueSignal: EventEmitter, consumerId: string, poll: LongPoll): Promise<DispatchMessage[]> {
  const until = Date.now() + poll.waitMs;
  for (;;) {
    const messages = await claim(store, consumerId, poll.max, poll.leaseS);
    if (messages.length > 0 || Date.now() >= until || poll.gone()) return messages;
    await nextWake(queueSignal, Math.min(LONG_POLL_STEP_MS, Math.max(1, until - Date.now())));
  }
}
