// Per-key serial lanes with bounded concurrency: items of one key (a gateway) are handled strictly in
// the order they were queued, items of different keys side by side, at most `concurrency` batches at
// once (the store's connection pool), and at most `capacity` items are held in all (queued or
// running) so the MQTT connection feeding them stops reading when the cloud is behind
// (back-pressure to the broker). Group commit: when a key's turn comes, every item it has queued by
// then (up to `maxBatch`) is handed over at once, so a gateway's burst commits in one transaction.

type Task = () => Promise<void>;

export interface BatchLanesOptions<T> {
  concurrency: number;
  capacity: number;
  /** Most items handed to one `run` call. */
  maxBatch: number;
  /** Handles one key's items, in queue order. Must not throw (it is the caller's boundary). */
  run: (key: string, items: T[]) => Promise<void>;
}

export class KeyedBatchLanes<T> {
  private readonly lanes = new Map<string, T[]>();
  /** Keys with queued items and nothing running, in the order they became ready (fairness). */
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private running = 0;
  private held = 0;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatchLanesOptions<T>) {
    const { concurrency, capacity, maxBatch } = options;
    if (concurrency < 1 || capacity < concurrency || maxBatch < 1) throw new Error(`lanes: need 1 <= concurrency (${concurrency}) <= capacity (${capacity}), maxBatch (${maxBatch}) >= 1`);
  }

  /** Items queued or running. */
  get size(): number {
    return this.held;
  }

  get hasRoom(): boolean {
    return this.held < this.options.capacity;
  }

  /** Queues `item` behind the earlier items of `key`. */
  push(key: string, item: T): void {
    this.held += 1;
    const lane = this.lanes.get(key);
    if (lane) {
      lane.push(item);
      return;
    }
    this.lanes.set(key, [item]);
    if (!this.busy.has(key)) this.ready.push(key);
    this.pump();
  }

  /** Resolves when another item may be pushed without exceeding the capacity. */
  whenRoom(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const lane = this.lanes.get(key)!;
      const items = lane.splice(0, this.options.maxBatch);
      if (lane.length === 0) this.lanes.delete(key);
      this.busy.add(key);
      this.running += 1;
      void this.options
        .run(key, items)
        .catch(() => undefined)
        .finally(() => this.finished(key, items.length));
    }
  }

  private finished(key: string, count: number): void {
    this.running -= 1;
    this.held -= count;
    this.busy.delete(key);
    // The key goes to the back of the ready list: a gateway with a long queue cannot starve others.
    if (this.lanes.has(key)) this.ready.push(key);
    if (this.hasRoom) this.wake('roomWaiters');
    if (this.held === 0) this.wake('idleWaiters');
    this.pump();
  }

  private wake(which: 'roomWaiters' | 'idleWaiters'): void {
    const waiters = this[which];
    this[which] = [];
    for (const resolve of waiters) resolve();
  }
}

/** One task at a time per key: the batch lanes with batches of one. */
export class KeyedLanes extends KeyedBatchLanes<Task> {
  constructor(concurrency: number, capacity: number) {
    super({ concurrency, capacity, maxBatch: 1, run: (_key, [task]) => task!() });
  }
}
