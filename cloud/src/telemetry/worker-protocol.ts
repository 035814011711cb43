// Messages between ingest (main thread) and a telemetry worker (worker.ts), and the compact form in
// which a worker hands back the newest reading per point of a batch (LatestValues on the main
// thread keeps the console's latest values without decoding the batch there).
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import type { InfluxApi } from './write-api.ts';

/** The newest reading per device/point of one batch, as parallel arrays (cheap to structured-clone). */
export interface CompactLatest {
  devices: string[];
  points: string[];
  values: ReadingValue[];
  times: number[];
}

/**
 * A batch's answer: accepted by the sink (the PUBACK may go), or refused by id with a reason. The
 * labels are a subset of metrics.ts RejectReason, spelled out because telemetry may not import metrics.
 */
export type Verdict = { ok: true; readings: number; latest: CompactLatest } | { ok: false; label: 'schema' | 'version' | 'gateway_mismatch'; reason: string };

/** What a worker needs to build its sink; plain data (it crosses the thread boundary). */
export interface SinkSettings {
  api: InfluxApi;
  url: string;
  token: string | null;
  org: string;
  bucket: string;
  batchSize?: number;
  flushIntervalMs?: number;
  highWaterLines?: number;
  minRetryDelayMs?: number;
}

export interface WorkerSettings {
  sink: SinkSettings | null;
  logLevel: string;
  /** Linux nice value of the worker thread (0 = as the main thread). */
  nice: number;
}

export type ToWorker =
  | { kind: 'batch'; id: number; gatewayId: string; payload: Uint8Array }
  | { kind: 'flush'; id: number }
  | { kind: 'stop'; id: number };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'verdict'; id: number; verdict: Verdict; pending: number }
  | { kind: 'done'; id: number; pending: number; error?: string }
  | { kind: 'written'; lines: number; pending: number }
  | { kind: 'dropped'; lines: number; pending: number }
  | { kind: 'pending'; pending: number }
  /** One pino record (JSON line) of the worker's sink, re-logged on the main thread. */
  | { kind: 'log'; line: string };

/** Newest reading per device/point (older ones never win, as in LatestValues.update). */
export function newestPerPoint(readings: readonly Reading[]): CompactLatest {
  const index = new Map<string, number>();
  const out: CompactLatest = { devices: [], points: [], values: [], times: [] };
  for (const r of readings) {
    const key = `${r.deviceId}\u0000${r.point}`;
    const i = index.get(key);
    if (i === undefined) {
      index.set(key, out.devices.length);
      out.devices.push(r.deviceId);
      out.points.push(r.point);
      out.values.push(r.value);
      out.times.push(r.t);
    } else if (out.times[i]! <= r.t) {
      out.values[i] = r.value;
      out.times[i] = r.t;
    }
  }
  return out;
}
