// Group commit of alarm changes with hold-and-retry. Reports arriving within one turn of the event
// loop, or while the previous group's commit is in flight, commit together (one transaction, one
// fsync), each resolved — and so acknowledged to its device — only after that commit. Where the
// transaction runs is the backend's business: on this thread (`sqliteCommitBackend`, tests and
// tools) or on the outbox's writer thread (`WorkerCommitBackend`, the agent). A failed commit (disk full, a broken database) keeps every change
// in memory, in decision order, and is retried with the next report or tick; the gateway raises
// its own `event_store_failed` alarm meanwhile (committed, with its clear, once the store is back).
// Nothing is dropped silently: beyond MAX_HELD_DRAFTS the oldest are dropped, counted and logged.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlarmEvent } from '@gridwatch/protocol';
import type { EdgeMetrics } from '../metrics.ts';
import type { EventDraft, RuleEngine } from '../rules/index.ts';
import type { EdgeDatabase } from './database.ts';
import type { Outbox } from './types.ts';

/** Changes held in memory beyond this many are dropped (counted and logged): a bound on a dead disk. */
export const MAX_HELD_DRAFTS = 10_000;
/** The gateway's own alarm while events cannot be committed (level 2: alarms are at risk). */
export const STORE_FAILED_ALARM = 'event_store_failed';

export interface GroupCommitOptions {
  db: EdgeDatabase;
  outbox: Outbox;
  engine: RuleEngine;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Where transactions run; default: on this thread, on `db` (`sqliteCommitBackend`). */
  backend?: CommitBackend;
  /** After a commit, with its events in decision order. */
  onEvents: (events: AlarmEvent[]) => void;
  /** Every change as decided, before its commit (local actuation). */
  onChanges?: (changes: readonly EventDraft[]) => void;
}

export type CommitOutcome = { ok: true; events: AlarmEvent[] } | { ok: false; error: Error };

/** Runs one group's transaction: its events and the rule engine's changed state, atomically. */
export interface CommitBackend {
  readonly open: boolean;
  /** `done` runs after COMMIT or the failure (possibly before `commit` returns); events in draft order. */
  commit(drafts: EventDraft[], done: (outcome: CommitOutcome) => void): void;
  /** The same, blocking until the outcome. */
  commitSync(drafts: EventDraft[]): CommitOutcome;
  /** Blocks until commits in flight have their outcome (their `done` runs first). */
  settle(): void;
}

/** Transactions on the caller's thread and connection (the outbox and rule store share `db`). */
export function sqliteCommitBackend(db: EdgeDatabase, outbox: Outbox, engine: RuleEngine): CommitBackend {
  // Rule state and the events it produces commit in one transaction: after a crash either both
  // are on disk or neither, so an alarm is never raised twice nor lost.
  const transaction = db.transaction((drafts: EventDraft[]) => {
    engine.persist(false, true);
    return drafts.map((draft) => outbox.append(draft));
  });
  const commitSync = (drafts: EventDraft[]): CommitOutcome => {
    try {
      return { ok: true, events: transaction(drafts) };
    } catch (err) {
      return { ok: false, error: err as Error };
    }
  };
  return {
    get open() {
      return db.open;
    },
    commit: (drafts, done) => done(commitSync(drafts)),
    commitSync,
    settle: () => undefined,
  };
}

interface Waiting {
  drafts: EventDraft[];
  resolve: () => void;
}

/** One group on its way to the disk. */
interface Group {
  waiting: Waiting[];
  /** The clear of the store's own alarm rides at the end of the group after a failure. */
  clear: boolean;
  unsaved: { hard: string[]; soft: string[] };
}

function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

const nothing = (): void => undefined;

export class GroupCommit {
  private readonly options: GroupCommitOptions;
  private readonly backend: CommitBackend;
  private readonly failures: Counter;
  private readonly droppedTotal: Counter;
  private readonly heldGauge: Gauge;
  /** In decision order: earlier changes commit first, so a clear never overtakes its raise. */
  private queue: Waiting[] = [];
  /** The group whose commit is in flight (one at a time: the next one gathers meanwhile). */
  private inFlight: Group | null = null;
  private scheduled = false;
  private failing = false;
  private dropped = 0;

  constructor(options: GroupCommitOptions) {
    this.options = options;
    this.backend = options.backend ?? sqliteCommitBackend(options.db, options.outbox, options.engine);
    const registry = options.metrics.registry;
    this.failures = counter(registry, 'gridwatch_edge_commit_failures_total', 'Outbox commits that failed (disk full, database error); their changes are held and retried');
    this.droppedTotal = counter(registry, 'gridwatch_edge_held_changes_dropped_total', `Alarm changes dropped because more than ${MAX_HELD_DRAFTS} were held uncommitted`);
    this.heldGauge =
      (registry.getSingleMetric('gridwatch_edge_events_held') as Gauge | undefined) ??
      new Gauge({ name: 'gridwatch_edge_events_held', help: 'Alarm changes decided but not yet committed', registers: [registry] });
  }

  /** Changes decided but not committed yet (waiting, in flight, or held after a failure). */
  get held(): number {
    const count = (ws: Waiting[]): number => ws.reduce((n, w) => n + w.drafts.length, 0);
    return count(this.queue) + (this.inFlight ? count(this.inFlight.waiting) : 0);
  }

  /** True while the last commit failed. */
  get storeFailing(): boolean {
    return this.failing;
  }

  /** Queues one report's changes for the group commit; resolves after they are committed. */
  enqueue(drafts: EventDraft[]): Promise<void> {
    if (drafts.length > 0) this.options.onChanges?.(drafts);
    if (drafts.length === 0 && !this.options.engine.dirty) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queue.push({ drafts, resolve });
      this.options.engine.commitPending = true;
      this.schedule();
    });
  }

  /** Like commitNow without blocking: `drafts` (and anything held) go with the next group. */
  commitSoon(drafts: EventDraft[]): void {
    if (drafts.length > 0) {
      this.options.onChanges?.(drafts);
      this.queue.push({ drafts, resolve: nothing });
      this.options.engine.commitPending = true;
    }
    if (this.queue.length > 0 || this.options.engine.dirty) this.schedule();
  }

  /** Commits now (clock, reset, health) together with everything queued; returns only `drafts`' events. */
  commitNow(drafts: EventDraft[]): AlarmEvent[] {
    if (drafts.length > 0) this.options.onChanges?.(drafts);
    // The group in flight gets its outcome first: a failed one goes back to the front of the queue.
    this.backend.settle();
    const before = this.held;
    if (drafts.length > 0) this.queue.push({ drafts, resolve: nothing });
    const events = this.flush();
    return events ? events.slice(before, before + drafts.length) : [];
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushAsync();
    });
  }

  /** Sends what is queued unless a group is in flight (its outcome schedules the next). */
  private flushAsync(): void {
    if (this.inFlight || !this.backend.open) return;
    const group = this.take();
    if (!group) return;
    this.inFlight = group;
    this.backend.commit(this.drafts(group), (outcome) => {
      this.inFlight = null;
      this.finish(group, outcome);
      if (outcome.ok && this.queue.length > 0) this.schedule();
    });
  }

  /** Commits everything queued, blocking; the events in queue order, or null when the commit failed. */
  flush(): AlarmEvent[] | null {
    const { engine } = this.options;
    if (this.queue.length === 0 && !this.inFlight && !engine.dirty) return [];
    // Stopped: what is queued was never acknowledged to its device (which will send it again).
    if (!this.backend.open) return null;
    this.backend.settle();
    const group = this.take();
    if (!group) return [];
    return this.finish(group, this.backend.commitSync(this.drafts(group)));
  }

  private drafts(group: Group): EventDraft[] {
    return group.waiting.flatMap((w) => w.drafts);
  }

  /** Takes the queue as the next group (with the store alarm's clear if the last commit failed). */
  private take(): Group | null {
    const { engine } = this.options;
    if (this.queue.length === 0 && !engine.dirty) return null;
    // The store is back if this commit works: the clear of its alarm goes in the same transaction.
    const clear = this.failing ? engine.system(STORE_FAILED_ALARM, false, 2, '') : [];
    if (clear.length > 0) this.queue.push({ drafts: clear, resolve: nothing });
    const group: Group = { waiting: this.queue, clear: clear.length > 0, unsaved: engine.dirtyKeys() };
    this.queue = [];
    return group;
  }

  private finish(group: Group, outcome: CommitOutcome): AlarmEvent[] | null {
    const { engine, logger } = this.options;
    if (!outcome.ok) {
      // Rolled back: the rule state must be written with the retry, and the alarm stays raised.
      engine.markDirty(group.unsaved);
      const waiting = group.clear ? group.waiting.slice(0, -1) : group.waiting;
      if (group.clear) engine.system(STORE_FAILED_ALARM, true, 2, '');
      this.queue = [...waiting, ...this.queue];
      engine.commitPending = true;
      this.onFailure(outcome.error);
      return null;
    }
    engine.commitPending = this.queue.length > 0;
    if (this.failing) logger.info({ committed: outcome.events.length, dropped: this.dropped }, 'events committed again after the store failed');
    this.failing = false;
    this.heldGauge.set(this.held);
    this.publish(outcome.events);
    for (const w of group.waiting) w.resolve();
    return outcome.events;
  }

  private publish(events: AlarmEvent[]): void {
    const { metrics, logger, onEvents } = this.options;
    for (const event of events) {
      metrics.events.inc({ action: event.action });
      logger.info(
        { eventId: event.id, deviceId: event.deviceId, alarmType: event.alarmType, action: event.action, level: event.level, ...(event.chattering ? { chattering: true } : {}) },
        'event durable',
      );
    }
    if (events.length > 0) onEvents(events);
  }

  private onFailure(err: Error): void {
    const { engine, logger } = this.options;
    this.failures.inc();
    if (!this.failing) {
      this.failing = true;
      logger.error({ err: err.message, held: this.held }, 'could not commit events; holding them in memory and retrying');
      const alarm = engine.system(STORE_FAILED_ALARM, true, 2, `alarm events cannot be stored on the gateway (${err.message}); held in memory`);
      this.options.onChanges?.(alarm);
      this.queue.push({ drafts: alarm, resolve: nothing });
    }
    engine.commitPending = true;
    this.dropExcess();
    this.heldGauge.set(this.held);
  }

  private dropExcess(): void {
    let excess = this.held - MAX_HELD_DRAFTS;
    while (excess > 0 && this.queue.length > 0) {
      const oldest = this.queue[0]!;
      const n = Math.min(excess, oldest.drafts.length);
      oldest.drafts.splice(0, n);
      if (oldest.drafts.length === 0) this.queue.shift()!.resolve();
      excess -= n;
      this.droppedTotal.inc(n);
      if (this.dropped === 0) this.options.logger.error({ limit: MAX_HELD_DRAFTS }, 'too many uncommitted alarm changes held; dropping the oldest');
      this.dropped += n;
    }
  }
}
