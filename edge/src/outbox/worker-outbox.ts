// The outbox as the agent runs it (issue 12): durable writes on the writer thread
// (writer-thread.ts), reads on this thread's own connection. WAL lets the two connections work at
// once: a read sees the last COMMIT and never waits for the writer's fsync.
//
// - Alarm events get their sequence number here, when their group is composed (one group in
//   flight at a time, so numbers are handed out in commit order). A group that fails keeps its
//   numbers for the retry, and the insert is idempotent (OR IGNORE on seq): if the thread died
//   after COMMIT but before answering, the retry finds the rows and changes nothing. A number is
//   never given to a second event; a change that is dropped (its group failed and it was never
//   retried, e.g. the store alarm's clear) leaves a gap, which the cloud does not treat as loss.
// - Rule state is written by the engine into a staging store (StagedRuleStore) and travels in
//   the same transaction as the events it produced, as before.
// - Acks are sent to the thread without waiting (synchronous=NORMAL, as before). Until the delete
//   is committed the acked ids are hidden from pending(), so the uplink does not resend them.
// - Quarantine and a direct append() block until their answer (rare, and their API is
//   synchronous).
import { eventIdFor, type AlarmEvent } from '@gridwatch/protocol';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { EdgeMetrics } from '../metrics.ts';
import { SqliteRuleStore, type RuleEngine, type RuleState, type RuleStore } from '../rules/index.ts';
import type { EventDraft } from '../types.ts';
import type { EdgeDatabase } from './database.ts';
import type { CommitBackend, CommitOutcome } from './group-commit.ts';
import type { SqliteOutbox } from './sqlite-outbox.ts';
import type { Outbox, QuarantinedEvent } from './types.ts';
import type { WriteOp, WriteResult, WriterThread } from './writer-thread.ts';

const INSERT_EVENT = 'INSERT OR IGNORE INTO outbox_events (seq, id, body, created_at) VALUES (?, ?, ?, ?)';
const DELETE_EVENT = 'DELETE FROM outbox_events WHERE id = ?';
const QUARANTINE_EVENT = 'INSERT OR REPLACE INTO outbox_quarantine (seq, id, body, reason, quarantined_at) SELECT seq, id, body, ?, ? FROM outbox_events WHERE id = ?';
const UPSERT_STATE = 'INSERT INTO rule_engine_state (key, state) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state';
const DELETE_STATE = 'DELETE FROM rule_engine_state WHERE key = ?';

/** Rule state saved by the engine, held until the next transaction to the writer thread takes it. */
export class StagedRuleStore implements RuleStore {
  private readonly reader: SqliteRuleStore;
  private staged: WriteOp[] = [];

  constructor(db: EdgeDatabase) {
    this.reader = new SqliteRuleStore(db);
  }

  init(): this {
    this.reader.init();
    return this;
  }

  load(): Map<string, RuleState> {
    return this.reader.load();
  }

  save(entries: ReadonlyArray<readonly [string, RuleState | null]>): void {
    for (const [k, s] of entries) this.staged.push(s ? [UPSERT_STATE, [k, JSON.stringify(s)]] : [DELETE_STATE, [k]]);
  }

  /** The statements saved since the last take. */
  take(): WriteOp[] {
    const ops = this.staged;
    this.staged = [];
    return ops;
  }
}

export class WorkerOutbox implements Outbox {
  private readonly reader: SqliteOutbox;
  private readonly writer: WriterThread;
  private readonly gatewayId: string;
  private lastSeq: number;
  /** A draft keeps its number across retries of its group. */
  private readonly numbered = new WeakMap<EventDraft, AlarmEvent>();
  /** Acked ids whose delete is not committed yet. */
  private readonly acking = new Set<string>();
  private readonly exists: (id: string) => boolean;
  /** Told when an ack's delete failed (the events are then pending again and resent). */
  onAckFailed: ((error: string) => void) | null = null;

  constructor(reader: SqliteOutbox, db: EdgeDatabase, writer: WriterThread, gatewayId: string) {
    this.reader = reader;
    this.writer = writer;
    this.gatewayId = gatewayId;
    // The highest number ever issued: AUTOINCREMENT's record, or a row if an older file lacks it.
    const row = db
      .prepare("SELECT max(s) AS s FROM (SELECT seq AS s FROM sqlite_sequence WHERE name = 'outbox_events' UNION ALL SELECT max(seq) FROM outbox_events UNION ALL SELECT max(seq) FROM outbox_quarantine)")
      .get() as { s: number | null };
    this.lastSeq = row.s ?? 0;
    const present = db.prepare('SELECT 1 FROM outbox_events WHERE id = ?').pluck();
    this.exists = (id) => present.get(id) !== undefined;
  }

  /** The event a draft becomes (numbered once, on its first attempt). */
  number(draft: EventDraft): AlarmEvent {
    let event = this.numbered.get(draft);
    if (!event) {
      const seq = ++this.lastSeq;
      event = { id: eventIdFor(this.gatewayId, seq), seq, ...draft };
      this.numbered.set(draft, event);
    }
    return event;
  }

  /** The statement that stores an event. */
  insertOp(event: AlarmEvent): WriteOp {
    return [INSERT_EVENT, [event.seq, event.id, JSON.stringify(event), Date.now()]];
  }

  /** Durable before returning, as the contract says; the agent's alarms go through the group commit instead. */
  append(draft: EventDraft): AlarmEvent {
    this.writer.settle();
    const event = this.number(draft);
    const result = this.writer.call({ ops: [this.insertOp(event)], durable: true });
    if (!result.ok) throw new Error(result.error);
    return event;
  }

  pending(limit: number): AlarmEvent[] {
    if (this.acking.size === 0) return this.reader.pending(limit);
    return this.reader
      .pending(limit + this.acking.size)
      .filter((e) => !this.acking.has(e.id))
      .slice(0, limit);
  }

  pendingCount(): number {
    let hidden = 0;
    for (const id of this.acking) if (this.exists(id)) hidden++;
    return this.reader.pendingCount() - hidden;
  }

  ack(ids: readonly string[]): number {
    const fresh = [...new Set(ids)].filter((id) => !this.acking.has(id) && this.exists(id));
    if (fresh.length === 0) return 0;
    for (const id of fresh) this.acking.add(id);
    this.writer.send({ ops: fresh.map((id) => [DELETE_EVENT, [id]] as const), durable: false }, (result) => {
      for (const id of fresh) this.acking.delete(id);
      if (!result.ok) this.onAckFailed?.(result.error);
    });
    return fresh.length;
  }

  quarantine(id: string, reason: string): boolean {
    if (this.acking.has(id)) return false;
    const result = this.writer.call({ ops: [[QUARANTINE_EVENT, [reason, Date.now(), id]], [DELETE_EVENT, [id]]], durable: true });
    if (!result.ok) throw new Error(result.error);
    return (result.changes[1] ?? 0) > 0;
  }

  quarantined(): QuarantinedEvent[] {
    return this.reader.quarantined();
  }

  /** Stops the writer thread (after what is in flight) and closes this thread's connection. */
  close(): void {
    void this.writer.close();
    this.reader.close();
  }
}

/** The group commit's transactions on the writer thread. */
export class WorkerCommitBackend implements CommitBackend {
  private readonly writer: WriterThread;
  private readonly outbox: WorkerOutbox;
  private readonly engine: RuleEngine;
  private readonly rules: StagedRuleStore;

  constructor(options: { writer: WriterThread; outbox: WorkerOutbox; engine: RuleEngine; rules: StagedRuleStore }) {
    this.writer = options.writer;
    this.outbox = options.outbox;
    this.engine = options.engine;
    this.rules = options.rules;
  }

  get open(): boolean {
    return this.writer.open;
  }

  commit(drafts: EventDraft[], done: (outcome: CommitOutcome) => void): void {
    const { ops, events } = this.compose(drafts);
    this.writer.send({ ops, durable: true }, (result) => done(outcome(result, events)));
  }

  commitSync(drafts: EventDraft[]): CommitOutcome {
    const { ops, events } = this.compose(drafts);
    return outcome(this.writer.call({ ops, durable: true }), events);
  }

  settle(): void {
    this.writer.settle();
  }

  private compose(drafts: EventDraft[]): { ops: WriteOp[]; events: AlarmEvent[] } {
    // Rule state and the events it produces commit in one transaction (see the rules engine).
    this.engine.persist(false, true);
    const events = drafts.map((d) => this.outbox.number(d));
    return { ops: [...events.map((e) => this.outbox.insertOp(e)), ...this.rules.take()], events };
  }
}

function outcome(result: WriteResult, events: AlarmEvent[]): CommitOutcome {
  return result.ok ? { ok: true, events } : { ok: false, error: new Error(result.error) };
}

/**
 * Saves the engine's bookkeeping (heartbeat last-seen, rate samples; hard state unless its events
 * are still waiting) without waiting and without an fsync of its own: the next alarm commit syncs it.
 */
export function saveRuleState(writer: WriterThread, engine: RuleEngine, rules: StagedRuleStore, logger: Logger, wait = false): void {
  const unsaved = engine.dirtyKeys();
  engine.persist(true);
  const ops = rules.take();
  if (ops.length === 0) return;
  const done = (result: WriteResult): void => {
    if (result.ok) return;
    engine.markDirty(unsaved);
    logger.error({ err: result.error }, 'could not save rule state; retried with the next commit');
  };
  if (wait) done(writer.call({ ops, durable: true }));
  else writer.send({ ops, durable: false }, done);
}

/** Counts the writer thread's unexpected stops in the agent's metrics. */
export function countWriterCrashes(metrics: EdgeMetrics): () => void {
  const name = 'gridwatch_edge_outbox_writer_crashes_total';
  const crashes =
    (metrics.registry.getSingleMetric(name) as Counter | undefined) ??
    new Counter({ name, help: 'Times the outbox writer thread stopped unexpectedly (its unanswered commits are held and retried)', registers: [metrics.registry] });
  return () => crashes.inc();
}
