// Which alarms are active per device. Persisted so that a restart neither raises an alarm again
// nor misses the clear of one raised before the restart.
import type { Database } from 'better-sqlite3';

export interface ActiveAlarm {
  deviceId: string;
  alarmType: string;
  since: number;
}

export interface RuleStateStore {
  isActive(deviceId: string, alarmType: string): boolean;
  setActive(deviceId: string, alarmType: string, active: boolean, t: number): void;
  listActive(): ActiveAlarm[];
}

export class MemoryRuleStateStore implements RuleStateStore {
  private readonly active = new Map<string, ActiveAlarm>();

  isActive(deviceId: string, alarmType: string): boolean {
    return this.active.has(`${deviceId}\u0000${alarmType}`);
  }

  setActive(deviceId: string, alarmType: string, active: boolean, t: number): void {
    const key = `${deviceId}\u0000${alarmType}`;
    if (active) this.active.set(key, { deviceId, alarmType, since: t });
    else this.active.delete(key);
  }

  listActive(): ActiveAlarm[] {
    return [...this.active.values()];
  }
}

/** SQLite store; share the outbox's database so a state change and its event commit together. */
export class SqliteRuleStateStore implements RuleStateStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** Creates the table if needed. Call once before use. */
  init(): this {
    this.db.exec(`CREATE TABLE IF NOT EXISTS rule_state (
      device_id TEXT NOT NULL,
      alarm_type TEXT NOT NULL,
      since INTEGER NOT NULL,
      PRIMARY KEY (device_id, alarm_type)
    ) WITHOUT ROWID`);
    return this;
  }

  isActive(deviceId: string, alarmType: string): boolean {
    return this.db.prepare('SELECT 1 FROM rule_state WHERE device_id = ? AND alarm_type = ?').get(deviceId, alarmType) !== undefined;
  }

  setActive(deviceId: string, alarmType: string, active: boolean, t: number): void {
    if (active) {
      this.db.prepare('INSERT OR IGNORE INTO rule_state (device_id, alarm_type, since) VALUES (?, ?, ?)').run(deviceId, alarmType, t);
    } else {
      this.db.prepare('DELETE FROM rule_state WHERE device_id = ? AND alarm_type = ?').run(deviceId, alarmType);
    }
  }

  listActive(): ActiveAlarm[] {
    const rows = this.db.prepare('SELECT device_id, alarm_type, since FROM rule_state ORDER BY device_id, alarm_type').all() as Array<{
      device_id: string;
      alarm_type: string;
      since: number;
    }>;
    return rows.map((r) => ({ deviceId: r.device_id, alarmType: r.alarm_type, since: r.since }));
  }
}
