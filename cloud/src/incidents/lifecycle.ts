// The incident lifecycle: legal transitions, their audit rows and the deadlines they start and
// cancel. Every change of status goes through here, from REST actions, the device, or the ticker.
import type { Queryable, SqlParam } from '../store/store.ts';
import { enqueueDispatch, withdrawPending } from '../dispatch/queue.ts';
import { route, type Jurisdiction } from '../routing/directory.ts';
import { audit, FINAL_STATUSES, getIncident, INCIDENT_COLUMNS, INCIDENT_STATUSES, toIncident, type Incident, type IncidentRow, type IncidentStatus } from './incident.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { noteOf, type Note } from './reasons.ts';
import { shelve, unshelve } from './shelving.ts';

export const ACTIONS = ['dispatch', 'acknowledge', 'on_site', 'resolve', 'close', 'false_alarm', 'test', 'note', 'reassign', 'shelve', 'unshelve'] as const;
export type Action = (typeof ACTIONS)[number];
/** Actions that keep the status: a note, a new unit (改派), shelving (搁置) and its end. */
export type SideAction = 'note' | 'reassign' | 'shelve' | 'unshelve';
export type StatusAction = Exclude<Action, SideAction>;

const OPEN_STATUSES: readonly IncidentStatus[] = ['raised', 'dispatched', 'acknowledged', 'on_site'];

/** Side action → states it may be taken in (the status stays). */
export const SIDE_ACTIONS: Record<SideAction, readonly IncidentStatus[]> = {
  note: INCIDENT_STATUSES,
  // A raised incident has no unit to take it from: that is `dispatch` with a unitId.
  reassign: ['dispatched', 'acknowledged', 'on_site'],
  shelve: OPEN_STATUSES,
  unshelve: OPEN_STATUSES,
};

/** Action → states it may start from → state it leads to. */
export const TRANSITIONS: Record<StatusAction, { from: readonly IncidentStatus[]; to: IncidentStatus }> = {
  dispatch: { from: ['raised'], to: 'dispatched' },
  acknowledge: { from: ['raised', 'dispatched'], to: 'acknowledged' },
  on_site: { from: ['dispatched', 'acknowledged'], to: 'on_site' },
  resolve: { from: ['acknowledged', 'on_site'], to: 'resolved' },
  close: { from: ['resolved', 'cleared'], to: 'closed' },
  false_alarm: { from: ['raised', 'dispatched', 'acknowledged', 'on_site'], to: 'false_alarm' },
  test: { from: ['raised', 'dispatched', 'acknowledged'], to: 'test' },
};

function isSideAction(action: Action): action is SideAction {
  return action in SIDE_ACTIONS;
}

/** The table the console renders (GET /api/v1/catalogue): each action, where it may start, where it leads (null: status kept). */
export function lifecycleTable(): { action: Action; from: IncidentStatus[]; to: IncidentStatus | null }[] {
  return ACTIONS.map((action) => (isSideAction(action) ? { action, from: [...SIDE_ACTIONS[action]], to: null } : { action, from: [...TRANSITIONS[action].from], to: TRANSITIONS[action].to }));
}

const TIME_COLUMN: Partial<Record<IncidentStatus, string>> = {
  acknowledged: 'acknowledged_at',
  on_site: 'on_site_at',
  resolved: 'resolved_at',
  closed: 'closed_at',
  cleared: 'cleared_at',
};

export class TransitionError extends Error {
  override readonly name = 'TransitionError';
  constructor(
    message: string,
    /** not_found → 404, conflict → 409, invalid (a field the action needs) → 400, forbidden → 403. */
    readonly kind: 'not_found' | 'conflict' | 'invalid' | 'forbidden',
  ) {
    super(message);
  }
}

export function jurisdictionOf(incident: Incident): Jurisdiction {
  return { grid: incident.grid, community: incident.community, street: incident.street, district: incident.district };
}

function levelKey(level: number): 1 | 2 | 3 | 4 | 5 {
  return Math.min(5, Math.max(1, Math.round(level))) as 1 | 2 | 3 | 4 | 5;
}

export function deadlineSeconds(options: EngineOptions, level: number, kind: 'ack' | 'on_site' | 'resolve'): number {
  const row = options.deadlines[levelKey(level)];
  return kind === 'ack' ? row.ackS : kind === 'on_site' ? row.onSiteS : row.resolveS;
}

/** The engine's "now" as a SQL expression: the injected (rehearsal) clock, else the database clock. */
export function clockSql(options: EngineOptions, params: SqlParam[]): string {
  if (!options.clock) return 'now()';
  params.push(options.clock());
  return `to_timestamp($${params.length}::double precision / 1000)`;
}

/**
 * A deadline starting now on the engine's clock (issue 17 rehearsal clock): a replayed raise gets
 * the deadline of its own time, not of the wall clock the replay happens to run at.
 */
export async function scheduleDeadline(tx: Queryable, incident: Incident, kind: 'ack' | 'on_site' | 'resolve', options: EngineOptions): Promise<void> {
  const params: SqlParam[] = [incident.id, kind, incident.tier, deadlineSeconds(options, incident.level, kind)];
  const start = clockSql(options, params);
  await tx.query(
    `INSERT INTO deadlines (incident_id, kind, tier, started_at, due_at) VALUES ($1, $2, $3, ${start}, ${start} + make_interval(secs => $4::double precision))`,
    params,
  );
}

async function cancelDeadlines(tx: Queryable, incidentId: number, kinds: readonly string[]): Promise<void> {
  await tx.query(
    `UPDATE deadlines SET cancelled_at = now() WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL AND kind = ANY($2::text[])`,
    [incidentId, `{${kinds.join(',')}}`],
  );
}

async function setStatus(tx: Queryable, incident: Incident, to: IncidentStatus): Promise<Incident> {
  const time = TIME_COLUMN[to];
  const final = FINAL_STATUSES.includes(to);
  // A final status ends a shelve too: nothing is left to return to the board.
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET status = $2, updated_at = now()${time ? `, ${time} = COALESCE(${time}, now())` : ''}${final ? ", open = false, shelved_until = NULL, shelved_reason = ''" : ''}
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incident.id, to],
  );
  if (final) await tx.query('UPDATE incident_sources SET open = false WHERE incident_id = $1 AND open', [incident.id]);
  return toIncident(rows[0] as IncidentRow);
}

/** Deadlines that follow from entering `to`. */
async function deadlinesFor(tx: Queryable, incident: Incident, to: IncidentStatus, options: EngineOptions): Promise<void> {
  if (to === 'acknowledged') {
    await cancelDeadlines(tx, incident.id, ['ack']);
    await scheduleDeadline(tx, incident, 'on_site', options);
  } else if (to === 'on_site') {
    await cancelDeadlines(tx, incident.id, ['ack', 'on_site']);
    await scheduleDeadline(tx, incident, 'resolve', options);
  } else if (FINAL_STATUSES.includes(to)) {
    await cancelDeadlines(tx, incident.id, ['ack', 'on_site', 'resolve']);
  }
}

/**
 * Routes a new incident (rules → tier → unit), marks it dispatched when a unit was found, starts
 * the acknowledge deadline and queues it for the dispatch consumers (maintenance-lane incidents
 * only for consumers of their own unit, dispatch/queue.ts). Not dispatchable incidents
 * (chattering, flood members) are only recorded.
 */
export async function routeAndDispatch(tx: Queryable, incident: Incident, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  if (!incident.dispatchable) return outcome.touch(incident);
  const target = await route(tx, jurisdictionOf(incident), incident.alarmType, incident.level);
  let current = incident;
  if (target.unit) {
    const rows = await tx.query<IncidentRow>(
      `UPDATE incidents SET tier = $2, unit_id = $3, status = 'dispatched', updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
      [incident.id, target.tier, target.unit.id],
    );
    current = toIncident(rows[0] as IncidentRow);
    await audit(tx, current.id, {
      actor: 'system',
      source: 'routing',
      action: 'dispatch',
      from: incident.status,
      to: 'dispatched',
      ...noteOf('routed', { unitId: target.unit.id, unitName: target.unit.name, unitType: target.unit.type, tier: target.tier, area: target.unit.area }),
    });
    await scheduleDeadline(tx, current, 'ack', options);
    outcome.dispatches.push({ incident: current, unitId: target.unit.id, kind: 'dispatch' });
  }
  await enqueueDispatch(tx, current, 'dispatch', outcome);
  return outcome.touch(current);
}

/** A unit the caller may hand an incident to, with the jurisdiction it covers. */
export interface TargetUnit {
  id: string;
  tier: string;
  area: string;
}

export interface ActionInput {
  action: Action;
  actor: string;
  note: string;
  source: string;
  /** For `dispatch`: send to this unit instead of the routed one. For `reassign`: the new unit (required). */
  unitId?: string;
  /** For `shelve`: until when (ISO-8601), bounded by the policy's `shelving.maxHours`. */
  until?: string;
  /** For `acknowledge` of a flood notice: acknowledge every open member too. */
  members?: boolean;
  /** For `reassign`: whether the caller may hand the incident to this unit (their jurisdictions; read within `tx`: PGlite has one connection); absent = any. */
  mayAssign?: (unit: TargetUnit, tx: Queryable) => Promise<boolean>;
  /** A note the system writes for this action (a code, incidents/reasons.ts) instead of a person's words. */
  coded?: Note;
}

/** Applies a staff action; throws TransitionError (not_found → 404, conflict → 409, invalid → 400, forbidden → 403). */
export async function applyAction(tx: Queryable, incidentId: number, input: ActionInput, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const incident = await getIncident(tx, incidentId, true);
  if (!incident) throw new TransitionError(`incident ${incidentId} not found`, 'not_found');
  if (input.members && input.action !== 'acknowledge') throw new TransitionError('members: only with action acknowledge', 'invalid');
  if (input.members && incident.kind !== 'flood') throw new TransitionError(`members: incident ${incident.id} is not a flood notice`, 'invalid');
  if (input.action === 'note') {
    await audit(tx, incident.id, { actor: input.actor, source: input.source, action: 'note', from: incident.status, to: incident.status, note: input.note });
    return outcome.touch(incident);
  }
  if (input.action === 'reassign' || input.action === 'shelve' || input.action === 'unshelve') {
    requireSideState(incident, input.action);
    if (input.action === 'reassign') return reassign(tx, incident, input, options, outcome);
    if (input.action === 'shelve') return shelve(tx, incident, { actor: input.actor, source: input.source, note: input.note, until: input.until }, options, outcome);
    return unshelve(tx, incident, { actor: input.actor, source: input.source, note: input.note }, options, outcome);
  }
  const next = await transition(tx, incident, { ...input, action: input.action }, options, outcome);
  if (input.members) await acknowledgeMembers(tx, next, input, options, outcome);
  return next;
}

function requireSideState(incident: Incident, action: SideAction): void {
  const from = SIDE_ACTIONS[action];
  if (!from.includes(incident.status)) {
    throw new TransitionError(`action: ${action} is not allowed while the incident is ${incident.status} (allowed in ${from.join(', ')})`, 'conflict');
  }
}

/** A status action (TRANSITIONS) with its audit row, deadlines and dispatch message. */
async function transition(tx: Queryable, incident: Incident, input: ActionInput & { action: StatusAction }, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const rule = TRANSITIONS[input.action];
  if (!rule.from.includes(incident.status)) {
    throw new TransitionError(`action: ${input.action} is not allowed while the incident is ${incident.status} (allowed from ${rule.from.join(', ')})`, 'conflict');
  }
  let next: Incident;
  if (input.action === 'dispatch' && input.unitId) {
    const units = await tx.query<{ id: string; tier: string }>('SELECT id, tier FROM units WHERE id = $1', [input.unitId]);
    const unit = units[0];
    if (!unit) throw new TransitionError(`unitId: unit ${input.unitId} not found`, 'conflict');
    await tx.query('UPDATE incidents SET unit_id = $2, tier = $3 WHERE id = $1', [incident.id, unit.id, unit.tier]);
    next = await setStatus(tx, incident, 'dispatched');
  } else {
    next = await setStatus(tx, incident, rule.to);
  }
  await audit(tx, incident.id, { actor: input.actor, source: input.source, action: input.action, from: incident.status, to: next.status, ...(input.coded ?? { note: input.note }) });
  if (next.status === 'dispatched') {
    await scheduleDeadline(tx, next, 'ack', options);
    if (next.unitId) outcome.dispatches.push({ incident: next, unitId: next.unitId, kind: 'dispatch' });
    await enqueueDispatch(tx, next, 'dispatch', outcome);
  } else {
    await deadlinesFor(tx, next, next.status, options);
    await enqueueDispatch(tx, next, 'update', outcome);
  }
  return outcome.touch(next);
}

/**
 * Flood group acknowledge in one step (issue 13): the notice was acknowledged; every open member
 * still waiting for it (raised or dispatched) is acknowledged too, one audit row each.
 */
async function acknowledgeMembers(tx: Queryable, notice: Incident, input: ActionInput, options: EngineOptions, outcome: Outcome): Promise<void> {
  const members = await tx.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE group_id = $1 AND open AND status = ANY($2::text[]) ORDER BY id FOR UPDATE`,
    [notice.id, `{${TRANSITIONS.acknowledge.from.join(',')}}`],
  );
  const coded = input.note === '' ? noteOf('flood_group_ack', { notice: notice.id }) : undefined;
  for (const row of members) await transition(tx, toIncident(row), { ...input, action: 'acknowledge', ...(coded ? { coded } : {}), members: false }, options, outcome);
}

/** Pending deadlines are handed over: the new unit gets the full time of the current stage from now. */
async function restartDeadlines(tx: Queryable, incident: Incident, options: EngineOptions): Promise<void> {
  const pending = await tx.query<{ kind: 'ack' | 'on_site' | 'resolve' }>(
    'UPDATE deadlines SET cancelled_at = now() WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL RETURNING kind',
    [incident.id],
  );
  for (const kind of new Set(pending.map((d) => d.kind))) await scheduleDeadline(tx, incident, kind, options);
}

/**
 * 改派: another unit takes the incident over, the status stays. The new unit gets a dispatch
 * message and fresh deadlines; undelivered messages to the old unit are withdrawn.
 */
async function reassign(tx: Queryable, incident: Incident, input: ActionInput, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  if (!input.unitId) throw new TransitionError('unitId: required for reassign (the unit to hand the incident to)', 'invalid');
  if (input.note.trim() === '') throw new TransitionError('note: a reason is required for reassign', 'invalid');
  const units = await tx.query<TargetUnit>('SELECT id, tier, area FROM units WHERE id = $1', [input.unitId]);
  const unit = units[0];
  if (!unit) throw new TransitionError(`unitId: unit ${input.unitId} not found`, 'invalid');
  if (unit.id === incident.unitId) throw new TransitionError(`unitId: the incident is already with ${unit.id}`, 'conflict');
  if (input.mayAssign && !(await input.mayAssign(unit, tx))) throw new TransitionError(`unitId: unit ${unit.id} (${unit.tier} ${unit.area}) is outside your jurisdictions`, 'forbidden');
  const rows = await tx.query<IncidentRow>(`UPDATE incidents SET unit_id = $2, tier = $3, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [
    incident.id,
    unit.id,
    unit.tier,
  ]);
  const next = toIncident(rows[0] as IncidentRow);
  const from = incident.unitId ?? 'no unit';
  if (incident.unitId) await withdrawPending(tx, incident.id, incident.unitId, `reassigned to ${unit.id}`);
  // The staff's reason is the note; the units travel as parameters (label audit.reassign).
  await audit(tx, incident.id, { actor: input.actor, source: input.source, action: 'reassign', from: incident.status, to: next.status, note: input.note, noteParams: { fromUnit: from, toUnit: unit.id } });
  await restartDeadlines(tx, next, options);
  outcome.dispatches.push({ incident: next, unitId: unit.id, kind: 'dispatch' });
  await enqueueDispatch(tx, next, 'dispatch', outcome);
  return outcome.touch(next);
}

/** A device clear (or a gateway back online) closing the incident by itself. */
export async function autoClear(tx: Queryable, incident: Incident, actor: string, outcome: Outcome): Promise<Incident> {
  const next = await setStatus(tx, incident, 'cleared');
  await audit(tx, incident.id, { actor, source: 'device', action: 'clear', from: incident.status, to: 'cleared', ...noteOf('device_cleared', {}) });
  await cancelDeadlines(tx, incident.id, ['ack', 'on_site', 'resolve']);
  await enqueueDispatch(tx, next, 'update', outcome);
  return outcome.touch(next);
}
