// Per-key serial lanes with bounded concurrency: tasks of one key (a gateway) run strictly in the
// order they were queued, tasks of different keys run side by side, at most `concurrency` at once
// (the store's connection pool), and at most `capacity` are held in all (queued or running) so the
// MQTT connection feeding them stops reading when the cloud is behind (back-pressure to the broker).

type Task = () => Promise<void>;

export class KeyedLanes {
  private readonly lanes = new Map<string, Task[]>();
  /** Keys with queued tasks and nothing running, in the order they became ready (fairness). */
  private readonly ready: string[] = [];
  private running = 0;
  private held = 0;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
  ) {
    if (concurrency < 1 || capacity < concurrency) throw new Error(`lanes: need 1 <= concurrency (${concurrency}) <= capacity (${capacity})`);
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.held;
  }

  get hasRoom(): boolean {
    return this.held < this.capacity;
  }

  /** Queues `task` behind the earlier tasks of `key`. The task must not throw (it is the caller's boundary). */
  push(key: string, task: Task): void {
    this.held += 1;
    const lane = this.lanes.get(key);
    if (lane) {
      lane.push(task);
      return;
    }
    this.lanes.set(key, [task]);
    this.ready.push(key);
    this.pump();
  }

  /** Resolves when another task may be pushed without exceeding the capacity. */
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
    while (this.running < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const task = this.lanes.get(key)![0]!;
      this.running += 1;
      void task()
        .catch(() => undefined)
        .finally(() => this.finished(key));
    }
  }

  private finished(key: string): void {
    this.running -= 1;
    this.held -= 1;
    const lane = this.lanes.get(key)!;
    lane.shift();
    // The key goes to the back of the ready list: a gateway with a long queue cannot starve others.
    if (lane.length > 0) this.ready.push(key);
    else this.lanes.delete(key);
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
