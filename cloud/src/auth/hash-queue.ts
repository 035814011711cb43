// Human password hashing (scrypt, 128 MiB and ~0.3 s of a core each) runs on the libuv thread pool
// it shares with file and DNS work. This queue bounds it: at most `concurrency` hashes run, at most
// `maxWaiting` wait, and beyond that the caller gets HashQueueFull (the API answers 503) instead of
// piling up memory and delaying everything else. Gateway logins never enter it (keyed hash).

export class HashQueueFull extends Error {
  override readonly name = 'HashQueueFull';
}

export class HashQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new HashQueueFull('password checks: too many at once; retry shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next) next();
      else this.running -= 1;
    }
  }
}
