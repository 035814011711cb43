// Readings to InfluxDB through @influxdata/influxdb-client: line protocol (line-protocol.ts) over the
// v2 or the v1 write API (write-api.ts, chosen by config), batches of ≈5,000 lines, retries with
// exponential back-off inside the client, and back-pressure: when more than `highWaterLines` are
// written but not yet confirmed, `write` waits until the server confirmed (or the client gave up
// on) enough of them. That holds ingest's telemetry handler, whose PUBACK waits for it, and so the
// broker's delivery and the gateways' telemetry lanes, instead of growing memory without bound.
//
// Every reading that does not reach the server is counted through `onDropped` exactly once: not
// writable (non-finite number), refused by the server (4xx other than 429: retrying cannot help),
// out of retries or retry time, evicted from the full retry buffer, or still unconfirmed at stop.
import { HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { Reading } from '@gridwatch/protocol';
import type { Logger } from 'pino';
import { toLines } from './line-protocol.ts';
import { createClient, type InfluxApi } from './write-api.ts';

export { MEASUREMENT, toLine } from './line-protocol.ts';

const MAX_RETRIES = 5;

export interface InfluxOptions {
  /** Which write API the server speaks: 'v2' (/api/v2/write) or 'v1' (/write?db=). Default v2. */
  api?: InfluxApi;
  url: string;
  token: string | null;
  org: string;
  bucket: string;
  log: Logger;
  batchSize?: number;
  flushIntervalMs?: number;
  highWaterLines?: number;
  /**
   * Gzip request bodies above 64 kB. Off by default: next to the TSDB (loopback, LAN) compressing a
   * 400 kB batch cost more CPU than the bytes saved (15 % of the cloud's busy time in the issue-12
   * profile); on a slow link to a remote TSDB turn it on.
   */
  gzip?: boolean;
  /** First retry delay; the client doubles it per attempt (with jitter). */
  minRetryDelayMs?: number;
  onWritten?: (lines: number) => void;
  onDropped?: (lines: number) => void;
}

/** One line of facts about a write error: no stack trace, the server's own message when it sent one. */
export function describeWriteError(error: unknown): Record<string, unknown> {
  if (error instanceof HttpError) {
    const serverMessage = typeof error.json?.error === 'string' ? (error.json.error as string) : typeof error.json?.message === 'string' ? (error.json.message as string) : error.body;
    return { status: error.statusCode, error: serverMessage?.slice(0, 300) ?? error.message };
  }
  return { error: error instanceof Error ? error.message : String(error) };
}

/** Whether the client will try a failed batch again (mirrors its rule: network errors and 429/5xx). */
function willRetry(error: Error, attempt: number, expires: number): boolean {
  if (attempt > MAX_RETRIES || expires <= Date.now()) return false;
  return !(error instanceof HttpError) || error.statusCode >= 429;
}

/**
 * The client logs through a process-wide logger; route it into pino at debug level (the sink logs
 * each outcome once itself), as one line without the multi-line stack trace.
 */
function routeClientLogging(log: Logger): void {
  setLogger({
    error: (message, err?: unknown) => log.debug({ client: 'influxdb-client', ...(err ? describeWriteError(err) : {}) }, message),
    warn: (message, err?: unknown) => log.debug({ client: 'influxdb-client', ...(err ? describeWriteError(err) : {}) }, message),
  });
}

export class InfluxSink {
  private writeApi: WriteApi | null = null;
  private pending = 0;
  private readonly highWater: number;
  /** Resolved whenever lines leave `pending` (confirmed or dropped). */
  private settled: (() => void)[] = [];

  constructor(private readonly options: InfluxOptions) {
    this.highWater = options.highWaterLines ?? 4 * (options.batchSize ?? 5000);
  }

  /** Lines written but not yet confirmed by the server. */
  get pendingLines(): number {
    return this.pending;
  }

  start(): void {
    const { api = 'v2', url, token, org, bucket, log } = this.options;
    routeClientLogging(log);
    const client = createClient({ api, url, token, org, bucket }, 10_000);
    this.writeApi = client.getWriteApi(org, bucket, 'ms', {
      batchSize: this.options.batchSize ?? 5000,
      flushInterval: this.options.flushIntervalMs ?? 1000,
      maxRetries: MAX_RETRIES,
      maxRetryTime: 60_000,
      minRetryDelay: this.options.minRetryDelayMs ?? 5000,
      maxBufferLines: 200_000,
      gzipThreshold: this.options.gzip ? 64 * 1024 : Number.POSITIVE_INFINITY,
      writeSuccess: (lines) => {
        this.pending -= lines.length;
        this.options.onWritten?.(lines.length);
        this.wakeSettled();
      },
      writeFailed: (error, lines, attempt, expires) => {
        if (willRetry(error, attempt, expires)) {
          log.warn({ ...describeWriteError(error), lines: lines.length, attempt }, 'telemetry write failed; retrying');
        } else {
          this.drop(lines.length, { ...describeWriteError(error), attempt }, 'telemetry write failed; lines dropped');
        }
      },
      writeRetrySkipped: (entry) => this.drop(entry.lines.length, {}, 'telemetry retry buffer full; oldest lines dropped'),
    });
  }

  private drop(lines: number, facts: Record<string, unknown>, message: string): void {
    if (lines <= 0) return;
    this.pending -= lines;
    this.options.onDropped?.(lines);
    this.options.log.warn({ ...facts, lines }, message);
    this.wakeSettled();
  }

  private wakeSettled(): void {
    const waiters = this.settled;
    this.settled = [];
    for (const resolve of waiters) resolve();
  }

  async write(gatewayId: string, readings: readonly Reading[]): Promise<void> {
    const api = this.writeApi;
    if (!api) throw new Error('telemetry sink not started');
    const lines = toLines(gatewayId, readings).filter((line): line is string => line !== null);
    if (lines.length < readings.length) {
      this.options.onDropped?.(readings.length - lines.length);
      this.options.log.warn({ gatewayId, lines: readings.length - lines.length }, 'telemetry readings without a writable value dropped');
    }
    this.pending += lines.length;
    api.writeRecords(lines);
    if (this.pending <= this.highWater) return;
    // Back-pressure: the caller waits until enough lines are confirmed, or given up on after the
    // client's retries (maxRetryTime) and counted as dropped: a stalled TSDB costs that budget, then
    // telemetry flows again with the loss counted, and cloud memory never holds more than the mark.
    void api.flush().catch((err: unknown) => this.options.log.debug(describeWriteError(err), 'telemetry flush failed (counted by the write callbacks)'));
    while (this.pending > this.highWater && this.writeApi === api) await new Promise<void>((resolve) => this.settled.push(resolve));
  }

  async flush(): Promise<void> {
    await this.writeApi?.flush();
  }

  async stop(): Promise<void> {
    const api = this.writeApi;
    this.writeApi = null;
    this.wakeSettled();
    if (!api) return;
    await api.close().catch((err: unknown) => this.options.log.debug(describeWriteError(err), 'telemetry close: last flush failed'));
    // Whatever is still unconfirmed (retry buffer, failed last flush) is lost with the process.
    this.drop(this.pending, {}, 'telemetry stopped; unconfirmed lines dropped');
  }
}
