// Fires due deadlines. Each process runs the same ticker; a due row is claimed with
// FOR UPDATE SKIP LOCKED and marked fired in the same transaction as its escalation, so it fires
// exactly once however many replicas run (and the audit table's unique deadline_id backs that up).
// Time comes from the caller (`nowMs`: the wall clock live, the scripted time in a rehearsal), and
// deadlines paused by shelving (shelving.ts) do not fire.
import { enqueueDispatch } from '../dispatch/queue.ts';
import { nextTier, unitAt, type Tier, isTier } from '../routing/directory.ts';
import type { Store } from '../store/store.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type IncidentRow } from './incident.ts';
import { jurisdictionOf, scheduleDeadline } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { noteOf } from './reasons.ts';

export interface FiredDeadline {
  deadlineId: number;
  incidentId: number;
  kind: 'ack' | 'on_site' | 'resolve';
  /** The tier it escalated to, or null at the top of the ladder (counted, not escalated). */
  escalatedTo: Tier | null;
}

/** Claims and fires up to `limit` deadlines due at `nowMs` in one transaction; returns what fired. */
export async function fireDueDeadlines(store: Store, options: EngineOptions, outcome: Outcome, limit = 50, nowMs: number = Date.now()): Promise<FiredDeadline[]> {
  // The new unit's deadline starts at this round's time, on the same clock.
  const engine: EngineOptions = { ...options, clock: () => nowMs };
  return store.transaction(async (tx) => {
    const due = await tx.query<{ id: string; incident_id: string; kind: FiredDeadline['kind'] }>(
      `SELECT id, incident_id, kind FROM deadlines
       WHERE fired_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL AND due_at <= to_timestamp($2::double precision / 1000)
         AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = deadlines.incident_id AND i.shelved_until IS NOT NULL)
       ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit, nowMs],
    );
    const fired: FiredDeadline[] = [];
    for (const d of due) {
      const deadlineId = Number(d.id);
      await tx.query('UPDATE deadlines SET fired_at = now() WHERE id = $1', [deadlineId]);
      const incident = await getIncident(tx, Number(d.incident_id), true);
      if (!incident) continue;
      const from: Tier = incident.tier && isTier(incident.tier) ? incident.tier : 'grid';
      // Skip tiers without a unit for this area: escalation must reach someone.
      let to = nextTier(from);
      let unit = null;
      while (to && !(unit = await unitAt(tx, jurisdictionOf(incident), to, null))) to = nextTier(to);
      if (to && unit) {
        const rows = await tx.query<IncidentRow>(
          `UPDATE incidents SET tier = $2, unit_id = $3, escalations = escalations + 1, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
          [incident.id, to, unit.id],
        );
        const next = toIncident(rows[0] as IncidentRow);
        await audit(tx, incident.id, {
          actor: 'system',
          source: 'deadline',
          action: 'escalate',
          from: incident.status,
          to: incident.status,
          ...noteOf('deadline_escalated', {
            deadline: d.kind,
            fromTier: from,
            fromUnit: incident.unitId ?? 'no unit',
            fromUnitName: incident.unitName ?? incident.unitId ?? '-',
            toTier: to,
            toUnit: unit.id,
            toUnitName: unit.name,
          }),
          deadlineId,
        });
        // The new unit gets the same time to act; missing it again climbs one more step.
        await scheduleDeadline(tx, next, d.kind, engine);
        outcome.dispatches.push({ incident: next, unitId: unit.id, kind: 'escalation' });
        await enqueueDispatch(tx, next, 'escalation', outcome);
        outcome.touch(next);
        fired.push({ deadlineId, incidentId: incident.id, kind: d.kind, escalatedTo: to });
      } else {
        const rows = await tx.query<IncidentRow>(`UPDATE incidents SET escalations = escalations, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [incident.id]);
        await audit(tx, incident.id, {
          actor: 'system',
          source: 'deadline',
          action: 'deadline_missed',
          from: incident.status,
          to: incident.status,
          ...noteOf('deadline_top', { deadline: d.kind, tier: from }),
          deadlineId,
        });
        outcome.touch(toIncident(rows[0] as IncidentRow));
        fired.push({ deadlineId, incidentId: incident.id, kind: d.kind, escalatedTo: null });
      }
    }
    return fired;
  });
}
