// The telemetry pipeline off ingest's event loop (issue 12): a pool of worker threads (worker.ts)
// that decode, validate and write telemetry batches to the TSDB, so alarms never share a thread
// with JSON parsing, schema validation and line protocol of 5,000-reading batches. Ingest hands a
// batch over as bytes and gets its verdict back (accepted, or refused with a reason) once the
// worker's sink accepted it; the PUBACK waits for that verdict, so back-pressure is unchanged.
// `workers: 0` runs the same pipeline (worker-processor.ts) on the calling thread.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWorker, SinkSettings, ToWorker, Verdict, WorkerSettings } from './worker-protocol.ts';
import { TelemetryProcessor } from './worker-processor.ts';

export interface TelemetryPipelineOptions {
  /** Worker threads; 0 = decode and write on the calling thread. */
  workers: number;
  /** Nice value of the worker threads on Linux (0 = the main thread's priority). */
  nice?: number;
  /** The TSDB; null = latest values only (the workers still decode). */
  sink: SinkSettings | null;
  log: Logger;
  onWritten?: (lines: number) => void;
  onDropped?: (lines: number) => void;
}

/** A request without its id (the pool numbers them); distributes over the union's members. */
type Request<T = ToWorker> = T extends ToWorker ? Omit<T, 'id'> : never;

interface Pending {
  resolve: (value: Verdict | undefined) => void;
  reject: (error: Error) => void;
}

/** pino's numeric levels, for re-logging a worker's records at their own level. */
const LEVELS: Record<number, 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'trace'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * Where the worker's code is: a bundle next to the running script (a packaged cloud's
 * dist/telemetry-worker.mjs, or one a benchmark built next to its own bundle), else the .ts source
 * of a checkout (through tsx), else the bundle next to this module.
 */
function workerEntry(): URL {
  const script = process.argv[1];
  if (script && /\.m?js$/.test(script)) {
    const beside = new URL('./telemetry-worker.mjs', pathToFileURL(script));
    if (existsSync(beside)) return beside;
  }
  if (import.meta.url.endsWith('.ts')) return new URL('./worker-boot.mjs', import.meta.url);
  const bundled = new URL('./telemetry-worker.mjs', import.meta.url);
  if (!existsSync(bundled)) throw new Error(`telemetry worker bundle missing: ${bundled.pathname} (set telemetryWorkers 0 to decode in-process)`);
  return bundled;
}

/** One worker thread and what it has been asked and not yet answered. */
class PoolWorker {
  readonly pending = new Map<number, Pending>();
  pendingLines = 0;
  private nextId = 1;
  private readonly ready: Promise<void>;

  constructor(
    readonly thread: Worker,
    private readonly options: TelemetryPipelineOptions,
    onExit: (worker: PoolWorker, code: number) => void,
  ) {
    this.ready = new Promise((resolve, reject) => {
      thread.once('error', reject);
      thread.on('message', (message: FromWorker) => (message.kind === 'ready' ? resolve() : this.receive(message)));
    });
    thread.on('error', (err) => this.failAll(err));
    thread.on('exit', (code) => {
      this.failAll(new Error(`telemetry worker exited (code ${code})`));
      onExit(this, code);
    });
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  ask(message: Request, transfer: ArrayBuffer[] = []): Promise<Verdict | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ ...message, id } as ToWorker, transfer);
    });
  }

  private receive(message: FromWorker): void {
    switch (message.kind) {
      case 'verdict':
      case 'done': {
        this.pendingLines = message.pending;
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.kind === 'verdict') waiter?.resolve(message.verdict);
        else if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(undefined);
        return;
      }
      case 'written':
        this.pendingLines = message.pending;
        return this.options.onWritten?.(message.lines);
      case 'dropped':
        this.pendingLines = message.pending;
        return this.options.onDropped?.(message.lines);
      case 'pending':
        this.pendingLines = message.pending;
        return;
      case 'log':
        return relog(this.options.log, message.line);
      default:
        return;
    }
  }

  private failAll(err: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(err);
  }
}

/** A worker's pino record on the main thread's logger, at its level, without pino's own fields. */
function relog(log: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return log.warn({ line: line.slice(0, 300) }, 'telemetry worker wrote an unreadable log line');
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...facts } = record;
  log[LEVELS[Number(level)] ?? 'info'](facts, typeof msg === 'string' ? msg : '');
}

/**
 * A batch's bytes for the worker: copied once into an ArrayBuffer of their own, which is then
 * moved (transferred), not cloned a second time. The caller keeps its Buffer (ingest dead-letters a
 * refused batch's payload), and a Buffer that is a slice of the socket's read buffer would have
 * structured-cloned its whole ArrayBuffer.
 */
export function forTransfer(payload: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const bytes = new Uint8Array(payload);
  return { bytes, transfer: [bytes.buffer] };
}

export class TelemetryPipeline {
  private readonly workers: PoolWorker[] = [];
  private local: TelemetryProcessor | null = null;
  private stopping = false;

  constructor(private readonly options: TelemetryPipelineOptions) {}

  /** Resolves once every worker has loaded (a broken worker bundle fails the cloud's start). */
  async start(): Promise<void> {
    if (this.options.workers <= 0) {
      const { sink, log, onWritten, onDropped } = this.options;
      this.local = new TelemetryProcessor(sink, { log, ...(onWritten ? { onWritten } : {}), ...(onDropped ? { onDropped } : {}) });
      return;
    }
    for (let i = 0; i < this.options.workers; i += 1) this.workers.push(this.spawn());
    await Promise.all(this.workers.map((w) => w.whenReady()));
  }

  private spawn(): PoolWorker {
    const { sink, workers, log } = this.options;
    // The sinks' marks add up to one sink's (InfluxSink: 4 batches), so cloud memory stays bounded the same.
    const mark = sink ? Math.ceil((sink.highWaterLines ?? 4 * (sink.batchSize ?? 5000)) / workers) : 0;
    const settings: WorkerSettings = { sink: sink ? { ...sink, highWaterLines: mark } : null, logLevel: log.level, nice: this.options.nice ?? 0 };
    const thread = new Worker(workerEntry(), { workerData: settings, name: 'gridwatch-telemetry' });
    return new PoolWorker(thread, this.options, (worker, code) => this.replace(worker, code));
  }

  /** A worker that died is replaced; its unanswered batches failed (ingest logs them). */
  private replace(worker: PoolWorker, code: number): void {
    const i = this.workers.indexOf(worker);
    if (i < 0 || this.stopping) return;
    this.options.log.error({ code }, 'telemetry worker exited; starting another');
    this.workers[i] = this.spawn();
  }

  /** Lines handed to the TSDB sinks and not yet confirmed (as last reported by each worker). */
  get pendingLines(): number {
    return this.local ? this.local.pendingLines : this.workers.reduce((n, w) => n + w.pendingLines, 0);
  }

  /** The batch's verdict once its readings are accepted by the sink (or refused, with the reason). */
  async submit(gatewayId: string, payload: Uint8Array): Promise<Verdict> {
    if (this.local) return this.local.handle(gatewayId, payload);
    const worker = this.leastBusy();
    const { bytes, transfer } = forTransfer(payload);
    const verdict = await worker.ask({ kind: 'batch', gatewayId, payload: bytes }, transfer);
    if (!verdict) throw new Error('telemetry worker answered a batch without a verdict');
    return verdict;
  }

  private leastBusy(): PoolWorker {
    let best = this.workers[0];
    if (!best) throw new Error('telemetry pipeline not started');
    for (const w of this.workers) if (w.pending.size < best.pending.size) best = w;
    return best;
  }

  async flush(): Promise<void> {
    if (this.local) return this.local.flush();
    await Promise.all(this.workers.map((w) => w.ask({ kind: 'flush' })));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.local) return this.local.stop();
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async (w) => {
        await w.ask({ kind: 'stop' }).catch((err: unknown) => this.options.log.warn({ err }, 'telemetry worker stop failed'));
        await w.thread.terminate();
      }),
    );
  }
}
