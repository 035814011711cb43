// SQLite outbox for alarm events. AUTOINCREMENT (not plain rowid) is what guarantees a sequence
// number is never reused: SQLite then keeps the highest seq ever issued in sqlite_sequence, even
// after every row is deleted by acks.
import { eventIdFor, type AlarmEvent } from '@gridwatch/protocol';
import type { EventDraft } from '../types.ts';
import type { EdgeDatabase } from './database.ts';
import type { Outbox, QuarantinedEvent } from './types.ts';

interface Row {
  seq: number;
  id: string;
  body: string;
}

/** The stored event, or why it cannot be one. */
function parseEvent(row: Row): AlarmEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(row.body);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const event = value as Partial<AlarmEvent>;
  if (event.id !== row.id || event.seq !== row.seq || typeof event.deviceId !== 'string' || typeof event.alarmType !== 'string') return 'id, seq or device do not match the row';
  return event as AlarmEvent;
}

export class SqliteOutbox implements Outbox {
  private readonly db: EdgeDatabase;
  private readonly gatewayId: string;

  constructor(db: EdgeDatabase, gatewayId: string) {
    this.db = db;
    this.gatewayId = gatewayId;
  }

  /** Creates the tables if needed. Call once before use. */
  init(): this {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT UNIQUE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS outbox_quarantine (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        reason TEXT NOT NULL,
        quarantined_at INTEGER NOT NULL
      );`);
    return this;
  }

  append(draft: EventDraft): AlarmEvent {
    return this.db.transaction((): AlarmEvent => {
      const seq = Number(this.db.prepare("INSERT INTO outbox_events (body, created_at) VALUES ('', ?)").run(Date.now()).lastInsertRowid);
      const event: AlarmEvent = { id: eventIdFor(this.gatewayId, seq), seq, ...draft };
      this.db.prepare('UPDATE outbox_events SET id = ?, body = ? WHERE seq = ?').run(event.id, JSON.stringify(event), seq);
      return event;
    })();
  }

  /** Called when a stored record cannot be read back (disk corruption, a torn write): it is quarantined, never resent. */
  onCorrupt: ((seq: number, reason: string) => void) | null = null;

  pending(limit: number): AlarmEvent[] {
    const rows = this.db.prepare('SELECT seq, id, body FROM outbox_events ORDER BY seq LIMIT ?').all(limit) as Row[];
    const events: AlarmEvent[] = [];
    for (const row of rows) {
      const event = parseEvent(row);
      if (typeof event === 'string') this.quarantineCorrupt(row, event);
      else events.push(event);
    }
    return events;
  }

  private quarantineCorrupt(row: Row, reason: string): void {
    const id = typeof row.id === 'string' && row.id.length > 0 ? row.id : eventIdFor(this.gatewayId, row.seq);
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO outbox_quarantine (seq, id, body, reason, quarantined_at) VALUES (?, ?, ?, ?, ?)')
        .run(row.seq, id, String(row.body), `corrupt record: ${reason}`, Date.now());
      this.db.prepare('DELETE FROM outbox_events WHERE seq = ?').run(row.seq);
    })();
    this.onCorrupt?.(row.seq, reason);
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox_events').get() as { n: number }).n;
  }

  /**
   * Deletes acked events without an fsync of their own (synchronous=NORMAL for this transaction):
   * the next alarm commit (FULL) syncs the WAL and so these frames before it. After a power loss
   * at worst a few acked events come back and are sent again, which the cloud deduplicates by id;
   * an fsync per ack stalled the local broker's event loop as much as the alarm commits (issue 12).
   */
  ack(ids: readonly string[]): number {
    const remove = this.db.prepare('DELETE FROM outbox_events WHERE id = ?');
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(() => ids.reduce((n, id) => n + remove.run(id).changes, 0))();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  quarantine(id: string, reason: string): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT seq, id, body FROM outbox_events WHERE id = ?').get(id) as Row | undefined;
      if (!row) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO outbox_quarantine (seq, id, body, reason, quarantined_at) VALUES (?, ?, ?, ?, ?)')
        .run(row.seq, row.id, row.body, reason, Date.now());
      this.db.prepare('DELETE FROM outbox_events WHERE seq = ?').run(row.seq);
      return true;
    })();
  }

  quarantined(): QuarantinedEvent[] {
    const rows = this.db.prepare('SELECT seq, id, body, reason, quarantined_at FROM outbox_quarantine ORDER BY seq').all() as Array<
      Row & { reason: string; quarantined_at: number }
    >;
    return rows.map((r) => {
      const event = parseEvent(r);
      return { event: typeof event === 'string' ? null : event, id: r.id, seq: r.seq, reason: r.reason, quarantinedAt: r.quarantined_at };
    });
  }

  /** Closes the database it was given (shared with rule state): call last, after the users stop. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
