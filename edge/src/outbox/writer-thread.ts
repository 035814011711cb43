// The thread that owns the outbox's write connection (issue 12): a SQLite commit with
// synchronous=FULL costs one fsync (4–8 ms on a loaded disk), and on the agent's main thread every
// device report queued behind it. The worker only runs transactions the main thread composes
// (a list of SQL statements with their parameters) and answers after COMMIT, so all outbox logic
// stays in typed code here and the worker is a few lines of plain JavaScript, started from a
// string: it then exists in every form the agent runs in (tsx checkout, the bench bundle, the
// packaged dist/), with no extra build entry. It has its own small heap (resourceLimits).
//
// Answers arrive on a MessagePort. `send` is asynchronous (the callback runs from the event loop);
// `call` blocks the main thread until its own answer (Atomics.wait on a counter the worker bumps
// after every answer, then receiveMessageOnPort), for the rare callers whose API is synchronous
// (clock and reset commits, quarantine). Answers are dispatched strictly in request order.
//
// A worker that stops (an uncaught error, out of memory, terminate) fails every request it had
// not answered, is logged once per outage and counted; the next request starts a new one.
import { createRequire } from 'node:module';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';

/** One statement of a transaction: SQL with its positional parameters. */
export type WriteOp = readonly [sql: string, params: ReadonlyArray<string | number | null>];

export interface WriterRequest {
  ops: readonly WriteOp[];
  /** FULL (fsync of the WAL at COMMIT) for alarm events; NORMAL for acks and bookkeeping. */
  durable: boolean;
}

/** Rows changed by each statement, in order; or why the transaction rolled back / never ran. */
export type WriteResult = { ok: true; changes: number[] } | { ok: false; error: string; crashed: boolean };

interface Reply {
  n: number;
  ok: boolean;
  changes?: number[];
  error?: string;
}

export interface WriterThreadOptions {
  file: string;
  logger: Logger;
  /** How long `call` waits for an answer before it gives up on the worker. */
  callTimeoutMs?: number;
  /** Heap of the worker (MB); it holds a few transactions at a time. */
  maxOldGenerationSizeMb?: number;
}

// Plain JavaScript on purpose (see the header). Same pragmas as openDatabase().
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const port = workerData.port;
const answered = new Int32Array(workerData.answered);
// Slot 1 tells a main thread blocked in Atomics.wait that no answer will come.
process.on('exit', () => { Atomics.store(answered, 1, 1); Atomics.add(answered, 0, 1); Atomics.notify(answered, 0); });
let db = null;
let broken = null;
try {
  db = new Database(workerData.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
} catch (err) { broken = String(err && err.message || err); }
const statements = new Map();
const statement = (sql) => { let s = statements.get(sql); if (!s) { s = db.prepare(sql); statements.set(sql, s); } return s; };
let mode = 'FULL';
function run(req) {
  if (!db) throw new Error(broken || 'database closed');
  if (req.close) { db.close(); db = null; broken = 'database closed'; return []; }
  const want = req.durable ? 'FULL' : 'NORMAL';
  if (want !== mode) { db.pragma('synchronous = ' + want); mode = want; }
  const changes = [];
  db.transaction(() => { for (const [sql, params] of req.ops) changes.push(statement(sql).run(...params).changes); })();
  return changes;
}
port.on('message', (req) => {
  if (req.crash) throw new Error('outbox writer crash requested');
  let reply;
  try { reply = { n: req.n, ok: true, changes: run(req) }; }
  catch (err) { reply = { n: req.n, ok: false, error: String(err && err.message || err) }; }
  port.postMessage(reply);
  Atomics.add(answered, 0, 1);
  Atomics.notify(answered, 0);
});
`;

interface Running {
  worker: Worker;
  port: MessagePort;
  answered: Int32Array;
  /** Requests sent to this worker and not answered yet, in order. */
  waiting: Map<number, (result: WriteResult) => void>;
}

export class WriterThread {
  private readonly options: WriterThreadOptions;
  private readonly sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  private running: Running | null = null;
  private next = 1;
  private closed = false;
  /** True from a crash until a request succeeds again: one log line per outage. */
  private down = false;
  /** Each time the worker stopped unexpectedly (metrics). */
  onCrash: (() => void) | null = null;

  constructor(options: WriterThreadOptions) {
    this.options = options;
  }

  /** Requests not answered yet. */
  get outstanding(): number {
    return this.running?.waiting.size ?? 0;
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Runs the transaction in the worker; `done` is called after its COMMIT (or with why it failed). */
  send(request: WriterRequest, done: (result: WriteResult) => void): void {
    if (this.closed) {
      done({ ok: false, error: 'outbox closed', crashed: false });
      return;
    }
    this.post({ ops: request.ops, durable: request.durable }, done);
  }

  /** Like `send`, but blocks until the answer (every earlier answer is dispatched first). */
  call(request: WriterRequest): WriteResult {
    let result: WriteResult | null = null;
    this.send(request, (r) => (result = r));
    this.settle();
    return result ?? { ok: false, error: 'outbox writer did not answer', crashed: true };
  }

  /** Blocks until every request sent so far is answered (or the wait times out: the worker is then replaced). */
  settle(): void {
    const running = this.running;
    if (!running) return;
    const deadline = Date.now() + (this.options.callTimeoutMs ?? 10_000);
    while (running.waiting.size > 0 && this.running === running) {
      const seen = Atomics.load(running.answered, 0);
      if (this.drain(running)) continue;
      if (Atomics.load(running.answered, 1) === 1) {
        this.crashed(running, 'stopped while the main thread waited for it');
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.crashed(running, `no answer within ${this.options.callTimeoutMs ?? 10_000} ms`);
        void running.worker.terminate();
        return;
      }
      Atomics.wait(running.answered, 0, seen, Math.min(left, 100));
    }
  }

  /** Test seam: makes the worker die with an uncaught error after its current work. */
  crashForTest(): void {
    (this.running ?? this.start()).port.postMessage({ n: 0, crash: true });
  }

  /** Waits for what is in flight, closes the worker's connection and stops it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.settle();
    // A worker that stopped meanwhile is not started again just to be closed.
    const running = this.running;
    if (running) {
      this.post({ close: true }, () => undefined);
      this.settle();
    }
    this.closed = true;
    this.running = null;
    if (running) {
      running.port.close();
      await running.worker.terminate();
    }
  }

  private post(message: Record<string, unknown>, done: (result: WriteResult) => void): void {
    const running = this.running ?? this.start();
    const n = this.next++;
    running.waiting.set(n, done);
    running.port.postMessage({ n, ...message });
  }

  private start(): Running {
    const channel = new MessageChannel();
    const answered = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { file: this.options.file, sqlite: this.sqlite, port: channel.port2, answered: answered.buffer },
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? 32, maxYoungGenerationSizeMb: 2, stackSizeMb: 2 },
    });
    const running: Running = { worker, port: channel.port1, answered, waiting: new Map() };
    channel.port1.on('message', (reply: Reply) => this.dispatch(running, reply));
    worker.on('error', (err) => this.crashed(running, err.message));
    worker.on('exit', (code) => this.crashed(running, `exit code ${code}`));
    this.running = running;
    return running;
  }

  /** Dispatches answers waiting on the port; true if there were any. */
  private drain(running: Running): boolean {
    let any = false;
    for (let m = receiveMessageOnPort(running.port); m; m = receiveMessageOnPort(running.port)) {
      this.dispatch(running, m.message as Reply);
      any = true;
    }
    return any;
  }

  private dispatch(running: Running, reply: Reply): void {
    const done = running.waiting.get(reply.n);
    if (!done) return;
    running.waiting.delete(reply.n);
    if (reply.ok) {
      if (this.down) this.options.logger.info('outbox writer thread answering again');
      this.down = false;
      done({ ok: true, changes: reply.changes ?? [] });
    } else {
      done({ ok: false, error: reply.error ?? 'unknown error', crashed: false });
    }
  }

  private crashed(running: Running, why: string): void {
    if (this.running !== running) return;
    // Answers it posted before it stopped still count.
    this.drain(running);
    this.running = null;
    if (this.closed) return;
    this.onCrash?.();
    if (!this.down) this.options.logger.error({ err: why, unanswered: running.waiting.size }, 'outbox writer thread stopped; its commits are held and retried on a new one');
    this.down = true;
    this.fail(running, `outbox writer thread stopped (${why})`);
  }

  private fail(running: Running, error: string): void {
    const waiting = [...running.waiting.values()];
    running.waiting.clear();
    for (const done of waiting) done({ ok: false, error, crashed: true });
  }
}
