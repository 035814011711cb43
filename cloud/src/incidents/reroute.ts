// When an incident becomes more urgent (a more severe alarm of its hazard family joined, or a second
// device confirmed it) it is routed again by the routing rules and its deadlines are recomputed from
// the new level. Without this a level-1 gas_high joining a level-2 gas_low kept the grid worker and
// the level-2 deadline, and the fire station the rules name for level-1 gas was never told.
import { enqueueDispatch } from '../dispatch/queue.ts';
import { route } from '../routing/directory.ts';
import type { Queryable, SqlParam } from '../store/store.ts';
import { audit, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { clockSql, deadlineSeconds, jurisdictionOf } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { unshelveIfNotShelvable } from './shelving.ts';
import { noteOf, type Note } from './reasons.ts';

type DeadlineKind = 'ack' | 'on_site' | 'resolve';

/** Where each deadline's clock starts: a changed level keeps the start, only the allowance changes. */
const STAGE_START: Record<DeadlineKind, string> = { ack: 'raised_at', on_site: 'acknowledged_at', resolve: 'on_site_at' };

/**
 * Replaces the pending deadlines by ones computed from the incident's current level. `fresh` (a new
 * unit took over) starts the clocks now on the engine's clock, as an escalation does: the new unit
 * gets the full time. Otherwise each keeps the start of the deadline it replaces (started_at, on the
 * engine's clock; rows older than that column: the stage's start).
 */
export async function recomputeDeadlines(tx: Queryable, incident: Incident, options: EngineOptions, fresh: boolean): Promise<DeadlineKind[]> {
  const pending = await tx.query<{ kind: DeadlineKind; started_at: Date | string | null }>(
    `UPDATE deadlines SET cancelled_at = now() WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL RETURNING kind, started_at`,
    [incident.id],
  );
  const kinds = [...new Set(pending.map((d) => d.kind))];
  if (kinds.length === 0 && incident.status === 'dispatched') kinds.push('ack');
  for (const kind of kinds) {
    const params: SqlParam[] = [incident.id, kind, incident.tier, deadlineSeconds(options, incident.level, kind)];
    const now = clockSql(options, params);
    const kept = pending.find((d) => d.kind === kind)?.started_at ?? null;
    if (!fresh) params.push(kept === null ? null : new Date(kept).getTime());
    const start = fresh ? now : `COALESCE(to_timestamp($${params.length}::double precision / 1000), (SELECT ${STAGE_START[kind]} FROM incidents WHERE id = $1), ${now})`;
    await tx.query(
      `INSERT INTO deadlines (incident_id, kind, tier, started_at, due_at) VALUES ($1, $2, $3, ${start}, ${start} + make_interval(secs => $4::double precision))`,
      params,
    );
  }
  return kinds;
}

/** Moves the incident to `unit` (status dispatched if nobody had it yet) and tells the new unit. */
async function handOver(tx: Queryable, incident: Incident, tier: string, unitId: string, note: Note, outcome: Outcome): Promise<Incident> {
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET tier = $2, unit_id = $3, status = CASE WHEN status = 'raised' THEN 'dispatched' ELSE status END, updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incident.id, tier, unitId],
  );
  const next = toIncident(rows[0] as IncidentRow);
  await audit(tx, incident.id, { actor: 'system', source: 'routing', action: 'reroute', from: incident.status, to: next.status, ...note });
  outcome.dispatches.push({ incident: next, unitId, kind: 'dispatch' });
  return next;
}

/**
 * After a change of level or alarm type: routes again, hands over when the rules now name another
 * unit, and recomputes the deadlines. Each change is an audit row. An unchanged incident only sends
 * the responsible unit an update.
 */
export async function rerouteAfterChange(tx: Queryable, before: Incident, raised: Incident, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const changed = before.level !== raised.level || before.alarmType !== raised.alarmType;
  const after = changed ? await unshelveIfNotShelvable(tx, raised, options, outcome) : raised;
  if (!changed || !after.dispatchable) {
    await enqueueDispatch(tx, after, 'update', outcome);
    return outcome.touch(after);
  }
  const target = await route(tx, jurisdictionOf(after), after.alarmType, after.level);
  let current = after;
  const moved = target.unit !== null && target.unit.id !== after.unitId;
  if (target.unit && moved) {
    const { unit, tier } = target;
    const note = noteOf('rerouted', {
      fromType: before.alarmType,
      fromLevel: before.level,
      alarmType: after.alarmType,
      level: after.level,
      fromUnit: before.unitId ?? 'no unit',
      fromUnitName: before.unitName ?? before.unitId ?? '-',
      unitId: unit.id,
      unitName: unit.name,
      unitType: unit.type,
      tier,
      area: unit.area,
    });
    current = await handOver(tx, after, target.tier, target.unit.id, note, outcome);
  }
  const kinds = await recomputeDeadlines(tx, current, options, moved);
  if (kinds.length > 0) {
    await audit(tx, current.id, {
      actor: 'system',
      source: 'deadline',
      action: 'redeadline',
      from: current.status,
      to: current.status,
      ...noteOf(moved ? 'deadlines_recomputed_moved' : 'deadlines_recomputed', { deadlines: kinds.join(', '), level: current.level }),
    });
  }
  await enqueueDispatch(tx, current, moved ? 'dispatch' : 'update', outcome);
  return outcome.touch(current);
}
