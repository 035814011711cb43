// Readings to InfluxDB (v2 write API, line protocol) through @influxdata/influxdb-client: batches of
// ≈5,000 lines, retries with exponential back-off inside the client, and back-pressure: when more
// than `highWaterLines` are written but not yet confirmed, `write` waits for a flush, which holds
// the MQTT handler and so slows the broker's delivery instead of growing memory without bound.
// Any server speaking /api/v2/write works (InfluxDB 2/3, VictoriaMetrics).
import { InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import type { Reading } from '@gridwatch/protocol';
import type { Logger } from 'pino';

export const MEASUREMENT = 'reading';

export interface InfluxOptions {
  url: string;
  token: string | null;
  org: string;
  bucket: string;
  log: Logger;
  batchSize?: number;
  flushIntervalMs?: number;
  highWaterLines?: number;
  onWritten?: (lines: number) => void;
  onDropped?: (lines: number) => void;
}

/** Line protocol escaping for tag keys/values (comma, equals, space) and string fields. */
function tag(value: string): string {
  return value.replace(/[,= \\]/g, (c) => `\\${c}`);
}

function stringField(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * One line per reading: `reading,gateway=…,device=…,point=… value=<float>|text="…" <ms>`.
 * Booleans become 1/0 so every numeric point is one float series (TSDBs without booleans agree).
 */
export function toLine(gatewayId: string, r: Reading): string {
  const field =
    typeof r.value === 'number' ? `value=${Number.isFinite(r.value) ? r.value : 0}` : typeof r.value === 'boolean' ? `value=${r.value ? 1 : 0}` : `text=${stringField(r.value)}`;
  return `${MEASUREMENT},device=${tag(r.deviceId)},gateway=${tag(gatewayId)},point=${tag(r.point)} ${field} ${r.t}`;
}

export class InfluxSink {
  private writeApi: WriteApi | null = null;
  private pending = 0;
  private readonly highWater: number;

  constructor(private readonly options: InfluxOptions) {
    this.highWater = options.highWaterLines ?? 4 * (options.batchSize ?? 5000);
  }

  /** Lines written but not yet confirmed by the server. */
  get pendingLines(): number {
    return this.pending;
  }

  start(): void {
    const { url, token, org, bucket, log } = this.options;
    const client = new InfluxDB({ url, token: token ?? undefined, timeout: 10_000 });
    this.writeApi = client.getWriteApi(org, bucket, 'ms', {
      batchSize: this.options.batchSize ?? 5000,
      flushInterval: this.options.flushIntervalMs ?? 1000,
      maxRetries: 5,
      maxRetryTime: 60_000,
      maxBufferLines: 200_000,
      gzipThreshold: 64 * 1024,
      writeSuccess: (lines) => {
        this.pending -= lines.length;
        this.options.onWritten?.(lines.length);
      },
      writeFailed: (error, lines, attempt) => {
        log.warn({ err: error.message, lines: lines.length, attempt }, 'telemetry write failed; retrying');
        // The client gives up after maxRetries; those lines are lost and counted.
        if (attempt > 5) {
          this.pending -= lines.length;
          this.options.onDropped?.(lines.length);
        }
      },
      writeRetrySkipped: (entry) => {
        this.pending -= entry.lines.length;
        this.options.onDropped?.(entry.lines.length);
      },
    });
  }

  async write(gatewayId: string, readings: readonly Reading[]): Promise<void> {
    const api = this.writeApi;
    if (!api) throw new Error('telemetry sink not started');
    const lines = readings.map((r) => toLine(gatewayId, r));
    this.pending += lines.length;
    api.writeRecords(lines);
    if (this.pending > this.highWater) {
      // Back-pressure: the caller (the MQTT handler) waits until the server has taken a batch.
      await api.flush().catch((err: unknown) => this.options.log.warn({ err }, 'telemetry flush failed; lines stay in the retry buffer'));
    }
  }

  async flush(): Promise<void> {
    await this.writeApi?.flush();
  }

  async stop(): Promise<void> {
    const api = this.writeApi;
    this.writeApi = null;
    if (api) await api.close().catch((err: unknown) => this.options.log.warn({ err }, 'telemetry close: unwritten lines dropped'));
  }
}
