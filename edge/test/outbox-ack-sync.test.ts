// Acks delete without an fsync of their own (synchronous=NORMAL for that transaction only; the
// next alarm commit syncs the WAL), and alarm commits keep synchronous=FULL (issue 12: an fsync
// per cloud ack stalled the agent's event loop as much as the alarm commits did).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteOutbox, openDatabase, type EdgeDatabase } from '../src/index.ts';

const NORMAL = 1;
const FULL = 2;

test('an ack commits at synchronous=NORMAL and leaves the connection at FULL for the alarm commits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-outbox-ack-'));
  const db: EdgeDatabase = openDatabase(join(dir, 'edge.db'));
  try {
    const outbox = new SqliteOutbox(db, 'gw-01').init();
    for (let i = 0; i < 3; i++) outbox.append({ deviceId: 'smoke-1', profileId: 'generic/smoke-mqtt', alarmType: 'smoke', action: i % 2 ? 'clear' : 'raise', level: 1, reason: 'r', edgeTime: i });
    const during: number[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const statement = prepare(sql);
      if (!sql.startsWith('DELETE FROM outbox_events WHERE id')) return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...args: unknown[]) => {
        during.push(db.pragma('synchronous', { simple: true }) as number);
        return run(...(args as []));
      }) as typeof statement.run;
      return statement;
    }) as typeof db.prepare;
    assert.equal(outbox.ack(['gw-01:1', 'gw-01:2']), 2);
    assert.deepEqual(during, [NORMAL, NORMAL], 'the delete runs without a sync of its own');
    assert.equal(db.pragma('synchronous', { simple: true }), FULL, 'alarm commits sync again');
    assert.equal(outbox.pendingCount(), 1);
    db.close();
    // What was committed is on disk for the next process.
    const again = new SqliteOutbox(openDatabase(join(dir, 'edge.db')), 'gw-01').init();
    assert.deepEqual(again.pending(10).map((e) => e.id), ['gw-01:3']);
    again.close();
  } finally {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
