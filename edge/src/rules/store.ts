// Persisted rule state. The SQLite store shares the outbox's database so a state change and the
// event it produced commit in one transaction: after a crash either both are on disk or neither.
import type { Database } from 'better-sqlite3';

/** Everything the engine remembers about one rule of one device. */
export interface RuleState {
  /** Raised, as the engine decided (the cloud also sees raised while `chattering`). */
  active: boolean;
  /** The raw condition, before delays and latching. */
  cond: boolean;
  condSince: number;
  latched?: boolean;
  /** Raise times within the chattering window. */
  flips: number[];
  chattering?: boolean;
  /** inactivity: counter value and time of the last advance by minDelta. */
  ref?: number;
  refT?: number;
  /** rate: recent [t, value] samples. */
  samples?: Array<[number, number]>;
  /** continuous: first and last slot of the current streak. */
  streakStart?: number;
  lastSlot?: number;
  /** heartbeat: time of the last report. */
  lastSeen?: number;
  /** heartbeat: the device's bus reported it not answering (polled devices). */
  linkLost?: boolean;
}

export interface RuleStore {
  load(): Map<string, RuleState>;
  /** `null` deletes. Keys are `${deviceId}\0${alarmType}`. */
  save(entries: ReadonlyArray<readonly [string, RuleState | null]>): void;
}

export class MemoryRuleStore implements RuleStore {
  private readonly data = new Map<string, string>();
  load(): Map<string, RuleState> {
    return new Map([...this.data].map(([k, v]) => [k, JSON.parse(v) as RuleState]));
  }
  save(entries: ReadonlyArray<readonly [string, RuleState | null]>): void {
    for (const [k, s] of entries) {
      if (s) this.data.set(k, JSON.stringify(s));
      else this.data.delete(k);
    }
  }
}

export class SqliteRuleStore implements RuleStore {
  private readonly db: Database;
  constructor(db: Database) {
    this.db = db;
  }

  /** Creates the table; imports the active alarms of the earlier `rule_state` table once. */
  init(): this {
    this.db.exec(`CREATE TABLE IF NOT EXISTS rule_engine_state (key TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID`);
    const legacy = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rule_state'").get();
    if (legacy) {
      this.db.transaction(() => {
        const rows = this.db.prepare('SELECT device_id, alarm_type, since FROM rule_state').all() as Array<{ device_id: string; alarm_type: string; since: number }>;
        const insert = this.db.prepare('INSERT OR IGNORE INTO rule_engine_state (key, state) VALUES (?, ?)');
        for (const r of rows) {
          const state: RuleState = { active: true, cond: true, condSince: r.since, flips: [] };
          insert.run(`${r.device_id}\u0000${r.alarm_type}`, JSON.stringify(state));
        }
        this.db.exec('DROP TABLE rule_state');
      })();
    }
    return this;
  }

  load(): Map<string, RuleState> {
    const rows = this.db.prepare('SELECT key, state FROM rule_engine_state').all() as Array<{ key: string; state: string }>;
    return new Map(rows.map((r) => [r.key, JSON.parse(r.state) as RuleState]));
  }

  save(entries: ReadonlyArray<readonly [string, RuleState | null]>): void {
    const upsert = this.db.prepare('INSERT INTO rule_engine_state (key, state) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state');
    const remove = this.db.prepare('DELETE FROM rule_engine_state WHERE key = ?');
    for (const [k, s] of entries) {
      if (s) upsert.run(k, JSON.stringify(s));
      else remove.run(k);
    }
  }
}
