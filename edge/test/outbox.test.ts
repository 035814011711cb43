// The SQLite outbox against a real database file: sequence numbers survive reopen and are never
// reused, acks delete, quarantine moves, and pending data survives a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteOutbox, openDatabase, type EventDraft } from '../src/index.ts';

function draft(n: number): EventDraft {
  return { deviceId: 'smoke-1', profileId: 'generic/smoke-mqtt', alarmType: 'smoke', action: 'raise', level: 1, reason: `r${n}`, edgeTime: 1000 + n };
}

function withDir(fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gw-outbox-'));
  try {
    fn(join(dir, 'edge.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const open = (file: string) => new SqliteOutbox(openDatabase(file), 'gw-01').init();

test('append assigns monotonic seq and gatewayId:seq ids, and uses WAL + synchronous FULL', () => {
  withDir((file) => {
    const db = openDatabase(file);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    const outbox = new SqliteOutbox(db, 'gw-01').init();
    const a = outbox.append(draft(1));
    const b = outbox.append(draft(2));
    assert.deepEqual([a.seq, a.id, b.seq, b.id], [1, 'gw-01:1', 2, 'gw-01:2']);
    assert.deepEqual(outbox.pending(10), [a, b]);
    assert.equal(outbox.pendingCount(), 2);
    outbox.close();
  });
});

test('seq continues across reopen and is never reused after every event was acked', () => {
  withDir((file) => {
    let outbox = open(file);
    outbox.append(draft(1));
    outbox.append(draft(2));
    outbox.append(draft(3));
    assert.equal(outbox.ack(['gw-01:1', 'gw-01:2', 'gw-01:3', 'gw-01:99']), 3);
    assert.equal(outbox.pendingCount(), 0);
    outbox.close();

    outbox = open(file);
    const next = outbox.append(draft(4));
    assert.equal(next.seq, 4);
    assert.equal(next.id, 'gw-01:4');
    outbox.close();
  });
});

test('pending events survive close and reopen unchanged, oldest first', () => {
  withDir((file) => {
    let outbox = open(file);
    const events = [outbox.append(draft(1)), outbox.append(draft(2)), outbox.append(draft(3))];
    outbox.ack(['gw-01:2']);
    outbox.close();
    outbox = open(file);
    assert.deepEqual(outbox.pending(10), [events[0], events[2]]);
    assert.deepEqual(outbox.pending(1), [events[0]]);
    outbox.close();
  });
});

test('quarantine moves a rejected event out of pending', () => {
  withDir((file) => {
    const outbox = open(file);
    const a = outbox.append(draft(1));
    const b = outbox.append(draft(2));
    assert.equal(outbox.quarantine(a.id, 'unknown device'), true);
    assert.equal(outbox.quarantine('gw-01:42', 'nope'), false);
    assert.deepEqual(outbox.pending(10), [b]);
    const [q] = outbox.quarantined();
    assert.deepEqual(q?.event, a);
    assert.equal(q?.reason, 'unknown device');
    outbox.close();
  });
});
