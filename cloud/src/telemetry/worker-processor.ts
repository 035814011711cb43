// The telemetry pipeline proper, the same code in a worker thread (worker.ts) or, with
// `telemetryWorkers: 0`, on ingest's own thread: decode and validate a batch against the wire
// contract, check it is the topic's gateway's, reduce it to the newest reading per point for the
// console, and hand the readings to the TSDB sink (which waits above its high-water mark: the
// verdict, and so the PUBACK, follows the sink's acceptance).
import { decodeMessage, type Reading } from '@gridwatch/protocol';
import { InfluxSink, type InfluxOptions } from './influx.ts';
import { newestPerPoint, type SinkSettings, type Verdict } from './worker-protocol.ts';

export type SinkHooks = Pick<InfluxOptions, 'log' | 'onWritten' | 'onDropped'> & {
  /** Lines the sink holds unconfirmed, after a batch was added (before it waits above its mark). */
  onPending?: (lines: number) => void;
};

export class TelemetryProcessor {
  private readonly sink: InfluxSink | null;
  /** Writes go to the sink one batch at a time, so it holds at most its mark plus one batch. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    settings: SinkSettings | null,
    private readonly hooks: SinkHooks,
  ) {
    const { onPending: _onPending, ...sinkHooks } = hooks;
    this.sink = settings ? new InfluxSink({ ...settings, ...sinkHooks }) : null;
    this.sink?.start();
  }

  get pendingLines(): number {
    return this.sink?.pendingLines ?? 0;
  }

  async handle(gatewayId: string, payload: Uint8Array): Promise<Verdict> {
    // As text: decodeMessage would copy a byte array into a Buffer first (350 kB per batch).
    const decoded = decodeMessage('telemetry', Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    if (!decoded.ok) return { ok: false, label: decoded.error.includes('schema version') ? 'version' : 'schema', reason: decoded.error };
    const { readings } = decoded.value;
    if (decoded.value.gatewayId !== gatewayId) {
      return { ok: false, label: 'gateway_mismatch', reason: `gatewayId: ${decoded.value.gatewayId} does not match the topic's gateway ${gatewayId}` };
    }
    const latest = newestPerPoint(readings);
    if (this.sink) await this.write(this.sink, gatewayId, readings);
    return { ok: true, readings: readings.length, latest };
  }

  private write(sink: InfluxSink, gatewayId: string, readings: readonly Reading[]): Promise<void> {
    const written = this.writes.then(() => {
      const waiting = sink.write(gatewayId, readings);
      this.hooks.onPending?.(sink.pendingLines);
      return waiting;
    });
    this.writes = written.catch(() => undefined);
    return written;
  }

  async flush(): Promise<void> {
    await this.sink?.flush();
  }

  async stop(): Promise<void> {
    await this.sink?.stop();
  }
}
