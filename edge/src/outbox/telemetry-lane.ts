// The telemetry lane of the outbox. Readings are buffered in memory and written in chunks (one row
// per ≤ CHUNK readings, in arrival order, so order per device is kept); the uplink sends one chunk
// as one TelemetryMessage whose `seq` is the chunk's AUTOINCREMENT id and deletes it on PUBACK.
// Telemetry is not alarm-grade: a power cut may lose the last unflushed buffer (≤ flushMs).
//
// Disk budget and thinning policy (docs: edge/README.md "Outbox lanes"). While the lane's stored
// bytes exceed `budgetBytes`:
//   1. downsample — the oldest chunk not yet thinned MAX_THIN times is halved: of each device/point
//      series in it every second reading is kept (the last one always), counted in `downsampled`;
//   2. drop oldest — when every chunk is thinned MAX_THIN times, the oldest chunk is deleted,
//      counted in `dropped`.
// Alarm events live in their own lane (outbox_events) and are never thinned or dropped.
import type { Reading } from '@gridwatch/protocol';
import type { EdgeDatabase } from './database.ts';

export const CHUNK = 500;
export const MAX_THIN = 2;

export interface TelemetryChunk {
  seq: number;
  readings: Reading[];
}

export interface TelemetryCounters {
  /** Readings removed by downsampling. */
  downsampled: number;
  /** Readings removed by dropping oldest chunks. */
  dropped: number;
}

export interface TelemetryLaneOptions {
  budgetBytes: number;
  /** Called after thinning removed readings (for metrics). */
  onThinned?: (kind: 'downsampled' | 'dropped', readings: number) => void;
}

interface ChunkRow {
  seq: number;
  body: string;
  thin: number;
  n: number;
}

export class TelemetryLane {
  private readonly db: EdgeDatabase;
  private readonly options: TelemetryLaneOptions;
  private buffer: Reading[] = [];
  private storedBytes = 0;
  private storedChunks = 0;
  private storedReadings = 0;
  private counters: TelemetryCounters = { downsampled: 0, dropped: 0 };

  constructor(db: EdgeDatabase, options: TelemetryLaneOptions) {
    this.db = db;
    this.options = options;
  }

  init(): this {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox_telemetry (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        n INTEGER NOT NULL,
        thin INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS outbox_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`);
    const sums = this.db.prepare('SELECT coalesce(sum(length(body)), 0) AS bytes, count(*) AS chunks, coalesce(sum(n), 0) AS readings FROM outbox_telemetry').get() as {
      bytes: number;
      chunks: number;
      readings: number;
    };
    this.storedBytes = sums.bytes;
    this.storedChunks = sums.chunks;
    this.storedReadings = sums.readings;
    const rows = this.db.prepare("SELECT name, value FROM outbox_counters WHERE name IN ('downsampled', 'dropped')").all() as Array<{ name: keyof TelemetryCounters; value: number }>;
    for (const r of rows) this.counters[r.name] = r.value;
    return this;
  }

  /** Buffers readings in memory; `flush()` writes them. */
  push(readings: readonly Reading[]): void {
    for (const r of readings) this.buffer.push(r);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Writes the buffer as chunks in one transaction, then enforces the budget. Returns readings written. */
  flush(): number {
    if (this.buffer.length === 0) return 0;
    const readings = this.buffer;
    this.buffer = [];
    const insert = this.db.prepare('INSERT INTO outbox_telemetry (body, n) VALUES (?, ?)');
    this.db.transaction(() => {
      for (let i = 0; i < readings.length; i += CHUNK) {
        const part = readings.slice(i, i + CHUNK);
        const body = JSON.stringify(part);
        insert.run(body, part.length);
        this.storedBytes += body.length;
        this.storedChunks += 1;
        this.storedReadings += part.length;
      }
      this.enforceBudget();
    })();
    return readings.length;
  }

  private bump(name: keyof TelemetryCounters, by: number): void {
    if (by === 0) return;
    this.counters[name] += by;
    this.db.prepare('INSERT INTO outbox_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, this.counters[name]);
    this.options.onThinned?.(name, by);
  }

  private enforceBudget(): void {
    const { budgetBytes } = this.options;
    if (this.storedBytes <= budgetBytes) return;
    const nextToThin = this.db.prepare('SELECT seq, body, thin, n FROM outbox_telemetry WHERE thin < ? ORDER BY seq LIMIT 16');
    const update = this.db.prepare('UPDATE outbox_telemetry SET body = ?, n = ?, thin = ? WHERE seq = ?');
    while (this.storedBytes > budgetBytes) {
      const rows = nextToThin.all(MAX_THIN) as ChunkRow[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (this.storedBytes <= budgetBytes) break;
        const before = JSON.parse(row.body) as Reading[];
        const after = downsample(before);
        const body = JSON.stringify(after);
        update.run(body, after.length, row.thin + 1, row.seq);
        this.storedBytes += body.length - row.body.length;
        this.storedReadings -= before.length - after.length;
        this.bump('downsampled', before.length - after.length);
      }
    }
    if (this.storedBytes <= budgetBytes) return;
    const oldest = this.db.prepare('SELECT seq, length(body) AS bytes, n FROM outbox_telemetry ORDER BY seq LIMIT 64');
    const remove = this.db.prepare('DELETE FROM outbox_telemetry WHERE seq = ?');
    while (this.storedBytes > budgetBytes) {
      const rows = oldest.all() as Array<{ seq: number; bytes: number; n: number }>;
      if (rows.length === 0) break;
      let dropped = 0;
      for (const row of rows) {
        if (this.storedBytes <= budgetBytes) break;
        remove.run(row.seq);
        this.storedBytes -= row.bytes;
        this.storedChunks -= 1;
        this.storedReadings -= row.n;
        dropped += row.n;
      }
      this.bump('dropped', dropped);
    }
  }

  /** Oldest chunks first, skipping `exclude` (those in flight). */
  next(limit: number, exclude: ReadonlySet<number>): TelemetryChunk[] {
    const rows = this.db.prepare('SELECT seq, body FROM outbox_telemetry ORDER BY seq LIMIT ?').all(limit + exclude.size) as Array<{ seq: number; body: string }>;
    const out: TelemetryChunk[] = [];
    for (const row of rows) {
      if (exclude.has(row.seq)) continue;
      out.push({ seq: row.seq, readings: JSON.parse(row.body) as Reading[] });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Deletes a chunk the broker accepted (PUBACK). */
  ack(seq: number): void {
    const row = this.db.prepare('DELETE FROM outbox_telemetry WHERE seq = ? RETURNING length(body) AS bytes, n').get(seq) as { bytes: number; n: number } | undefined;
    if (!row) return;
    this.storedBytes -= row.bytes;
    this.storedChunks -= 1;
    this.storedReadings -= row.n;
  }

  stats(): { bytes: number; chunks: number; readings: number; buffered: number; budgetBytes: number } & TelemetryCounters {
    return { bytes: this.storedBytes, chunks: this.storedChunks, readings: this.storedReadings, buffered: this.buffer.length, budgetBytes: this.options.budgetBytes, ...this.counters };
  }
}

/** Keeps every second reading of each device/point series, and always the series' last one. */
export function downsample(readings: readonly Reading[]): Reading[] {
  const seen = new Map<string, number>();
  const last = new Map<string, number>();
  readings.forEach((r, i) => last.set(`${r.deviceId}\u0000${r.point}`, i));
  return readings.filter((r, i) => {
    const k = `${r.deviceId}\u0000${r.point}`;
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return n % 2 === 1 || last.get(k) === i;
  });
}
