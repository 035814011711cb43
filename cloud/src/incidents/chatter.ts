// Chattering (ISA-18.2 § 16.6, EEMUA 191): a source that returns to normal and alarms again and
// again is one incident with an occurrence count, flagged, and not dispatched again until it has
// been quiet for the release time. Episodes (a raise after a clear) are counted on the events' edge
// times, so any toggle cadence whose period fits the window is caught and a replay at speed gives
// the same answer. Edges that detect chattering themselves say so (`chattering: true`); the cloud
// honours that and applies the same rule for edges that do not.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Queryable } from '../store/store.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import type { Outcome } from './outcome.ts';
import type { AlarmRules } from './policy.ts';
import { noteOf } from './reasons.ts';

/** Raise episodes (a raise whose previous event of the source was a clear, or none) within the window, this one included. */
export async function episodesInWindow(tx: Queryable, gatewayId: string, event: AlarmEvent, windowS: number): Promise<number> {
  const rows = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT action, edge_time, lag(action) OVER (ORDER BY seq) AS prev FROM events
       WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND applied AND NOT test
         AND edge_time > to_timestamp($4::double precision / 1000) - make_interval(secs => $5::double precision * 2)
         AND edge_time <= to_timestamp($4::double precision / 1000)
     ) e
     WHERE action = 'raise' AND (prev IS NULL OR prev = 'clear') AND edge_time > to_timestamp($4::double precision / 1000) - make_interval(secs => $5::double precision)`,
    [gatewayId, event.deviceId, event.alarmType, event.edgeTime, windowS],
  );
  return rows[0]?.n ?? 0;
}

interface ClearedCandidate {
  id: number;
  chattering: boolean;
  lastEdgeMs: number;
}

/** The source's incidents that its own clear closed, still within the chatter window (or release time when chattering), oldest first. */
async function recentlyCleared(tx: Queryable, gatewayId: string, event: AlarmEvent, rules: AlarmRules): Promise<ClearedCandidate[]> {
  const rows = await tx.query<{ id: string; chattering: boolean; last_edge: Date | string }>(
    `SELECT i.id, i.chattering, max(e.edge_time) AS last_edge FROM incidents i
     JOIN incident_sources s ON s.incident_id = i.id AND s.gateway_id = $1 AND s.device_id = $2 AND s.alarm_type = $3
     JOIN events e ON e.incident_id = i.id
     WHERE i.status = 'cleared' AND i.group_id IS NULL AND i.kind IN ('device', 'correlated')
       AND e.edge_time > to_timestamp($4::double precision / 1000) - make_interval(secs => $5::double precision)
     GROUP BY i.id, i.chattering ORDER BY i.id`,
    [gatewayId, event.deviceId, event.alarmType, event.edgeTime, Math.max(rules.chatter.windowS, rules.chatter.releaseS)],
  );
  return rows
    .map((r) => ({ id: Number(r.id), chattering: r.chattering, lastEdgeMs: new Date(r.last_edge).getTime() }))
    .filter((c) => event.edgeTime - c.lastEdgeMs <= 1000 * (c.chattering ? rules.chatter.releaseS : rules.chatter.windowS));
}

/** Whether this raise makes (or keeps) its source chattering. */
export async function isChattering(tx: Queryable, gatewayId: string, event: AlarmEvent, rules: AlarmRules): Promise<boolean> {
  if (event.chattering === true) return true;
  return (await episodesInWindow(tx, gatewayId, event, rules.chatter.windowS)) >= rules.chatter.count;
}

/**
 * A chattering raise of a source whose recent incidents its own clears closed: the oldest is
 * reopened (one more occurrence, flagged, not dispatched again) and the later ones fold into it
 * (listed under it, off the board). Returns null when there is nothing to reopen.
 */
export async function reopenChattering(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, rules: AlarmRules, outcome: Outcome): Promise<Incident | null> {
  const candidates = await recentlyCleared(tx, gateway.gatewayId, event, rules);
  const survivor = candidates[0];
  if (!survivor) return null;
  const released = !(event.chattering === true) && !candidates.some((c) => c.chattering) && (await episodesInWindow(tx, gateway.gatewayId, event, rules.chatter.windowS)) < rules.chatter.count;
  if (released) return null;
  const folded = candidates.slice(1).map((c) => c.id);
  const previous = await tx.query<{ from_status: string | null }>(
    "SELECT from_status FROM incident_audit WHERE incident_id = $1 AND action = 'clear' ORDER BY id DESC LIMIT 1",
    [survivor.id],
  );
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET open = true, status = $2, chattering = true, dispatchable = false, cleared_at = NULL, level = LEAST(level, $3),
       occurrences = occurrences + 1 + COALESCE((SELECT sum(occurrences) FROM incidents f WHERE f.id = ANY($4::bigint[])), 0), updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [survivor.id, previous[0]?.from_status ?? 'raised', event.level, `{${folded.join(',')}}`],
  );
  await tx.query('UPDATE incident_sources SET open = true WHERE incident_id = $1 AND gateway_id = $2 AND device_id = $3 AND alarm_type = $4', [
    survivor.id,
    gateway.gatewayId,
    event.deviceId,
    event.alarmType,
  ]);
  const actor = `gateway:${gateway.gatewayId}`;
  for (const id of folded) {
    await tx.query('UPDATE incidents SET group_id = $2, dispatchable = false, chattering = true, updated_at = now() WHERE id = $1', [id, survivor.id]);
    await audit(tx, id, { actor, source: 'chattering', action: 'fold', ...noteOf('chatter_fold', { incident: survivor.id }) });
    outcome.touch((await getIncident(tx, id)) as Incident);
  }
  const incident = toIncident(rows[0] as IncidentRow);
  await audit(tx, survivor.id, {
    actor,
    source: 'chattering',
    action: 'chattering',
    from: 'cleared',
    to: incident.status,
    ...noteOf('chatter_occurrence', { deviceId: event.deviceId, alarmType: event.alarmType, occurrences: incident.occurrences, releaseS: rules.chatter.releaseS }),
  });
  return outcome.touch(incident);
}

/** Flags an open incident whose source repeats as chattering (once; it stays dispatched as it was). */
export async function flagChattering(tx: Queryable, incident: Incident, event: AlarmEvent): Promise<Incident> {
  if (incident.chattering) return incident;
  const rows = await tx.query<IncidentRow>(`UPDATE incidents SET chattering = true, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [incident.id]);
  await audit(tx, incident.id, { actor: 'system', source: 'chattering', action: 'chattering', from: incident.status, to: incident.status, ...noteOf('chatter_flagged', { deviceId: event.deviceId, alarmType: event.alarmType }) });
  return toIncident(rows[0] as IncidentRow);
}
