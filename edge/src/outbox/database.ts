// Opens the edge's SQLite database. WAL lets the uplink read while rules append; synchronous=FULL
// syncs the WAL on every commit, so a committed alarm survives power loss, not only a process crash
// (with NORMAL, the last commits may roll back after power loss in WAL mode).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type EdgeDatabase = Database.Database;

export function openDatabase(file: string): EdgeDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}
