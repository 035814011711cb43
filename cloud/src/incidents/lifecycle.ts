// The incident lifecycle: legal transitions, their audit rows and the deadlines they start and
// cancel. Every change of status goes through here, from REST actions, the device, or the ticker.
import type { Queryable } from '../store/store.ts';
import { enqueueDispatch } from '../dispatch/queue.ts';
import { route, type Jurisdiction } from '../routing/directory.ts';
import { audit, FINAL_STATUSES, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow, type IncidentStatus } from './incident.ts';
import type { EngineOptions, Outcome } from './outcome.ts';

export const ACTIONS = ['dispatch', 'acknowledge', 'on_site', 'resolve', 'close', 'false_alarm', 'test', 'note'] as const;
export type Action = (typeof ACTIONS)[number];

/** Action → states it may start from → state it leads to (`note` keeps the state). */
export const TRANSITIONS: Record<Exclude<Action, 'note'>, { from: readonly IncidentStatus[]; to: IncidentStatus }> = {
  dispatch: { from: ['raised'], to: 'dispatched' },
  acknowledge: { from: ['raised', 'dispatched'], to: 'acknowledged' },
  on_site: { from: ['dispatched', 'acknowledged'], to: 'on_site' },
  resolve: { from: ['acknowledged', 'on_site'], to: 'resolved' },
  close: { from: ['resolved', 'cleared'], to: 'closed' },
  false_alarm: { from: ['raised', 'dispatched', 'acknowledged', 'on_site'], to: 'false_alarm' },
  test: { from: ['raised', 'dispatched', 'acknowledged'], to: 'test' },
};

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
    readonly kind: 'not_found' | 'conflict',
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

export async function scheduleDeadline(tx: Queryable, incident: Incident, kind: 'ack' | 'on_site' | 'resolve', options: EngineOptions): Promise<void> {
  await tx.query(
    `INSERT INTO deadlines (incident_id, kind, tier, due_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision))`,
    [incident.id, kind, incident.tier, deadlineSeconds(options, incident.level, kind)],
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
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET status = $2, updated_at = now()${time ? `, ${time} = COALESCE(${time}, now())` : ''}${final ? ', open = false' : ''}
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
 * the acknowledge deadline and queues it for the dispatch consumers. Not dispatchable incidents
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
      note: `routed to ${target.unit.id} (${target.unit.type}, ${target.tier} ${target.unit.area})`,
    });
    await scheduleDeadline(tx, current, 'ack', options);
    outcome.dispatches.push({ incident: current, unitId: target.unit.id, kind: 'dispatch' });
  }
  await enqueueDispatch(tx, current, 'dispatch', outcome);
  return outcome.touch(current);
}

export interface ActionInput {
  action: Action;
  actor: string;
  note: string;
  source: string;
  /** For `dispatch`: send to this unit instead of the routed one. */
  unitId?: string;
}

/** Applies a staff action; throws TransitionError (not_found → 404, conflict → 409). */
export async function applyAction(tx: Queryable, incidentId: number, input: ActionInput, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const incident = await getIncident(tx, incidentId, true);
  if (!incident) throw new TransitionError(`incident ${incidentId} not found`, 'not_found');
  if (input.action === 'note') {
    await audit(tx, incident.id, { actor: input.actor, source: input.source, action: 'note', from: incident.status, to: incident.status, note: input.note });
    return outcome.touch(incident);
  }
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
  await audit(tx, incident.id, { actor: input.actor, source: input.source, action: input.action, from: incident.status, to: next.status, note: input.note });
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

/** A device clear (or a gateway back online) closing the incident by itself. */
export async function autoClear(tx: Queryable, incident: Incident, actor: string, outcome: Outcome): Promise<Incident> {
  const next = await setStatus(tx, incident, 'cleared');
  await audit(tx, incident.id, { actor, source: 'device', action: 'clear', from: incident.status, to: 'cleared', note: 'cleared by the device' });
  await cancelDeadlines(tx, incident.id, ['ack', 'on_site', 'resolve']);
  await enqueueDispatch(tx, next, 'update', outcome);
  return outcome.touch(next);
}
