// Alarm verification for single detectors (GB 50116-2013 § 4.1 / GB 50440 fire-alarm verification,
// EN 54-2 § 7.11 "alarm verification"; ISA-18.2 calls it an on-delay): with the policy's
// `verification.enabled` for a type and area, one detector's alarm is shown at once as a pre-alarm
// (预警, verification 'pre_alarm', not dispatched) and becomes the level's dispatch when it persists
// past verifyS (the alarm-policy job), repeats within confirmS, or a second detector of the family
// joins. A pulse that clears earlier stays a recorded pre-alarm ('unconfirmed', status cleared) and
// counts toward the device's false-alarm rate. Off (the default): every alarm dispatches at once.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Queryable } from '../store/store.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { autoClear, routeAndDispatch } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import type { AlarmRules } from './policy.ts';
import { noteOf, type Note } from './reasons.ts';
import { activeSources } from './source-order.ts';

/** Marks a new (not yet dispatched) incident as a pre-alarm due for verification at edge time + verifyS. */
export async function startPreAlarm(tx: Queryable, incident: Incident, event: AlarmEvent, rules: AlarmRules): Promise<Incident> {
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET verification = 'pre_alarm', verify_due_at = to_timestamp($2::double precision / 1000) + make_interval(secs => $3::double precision)
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incident.id, event.edgeTime, rules.verification.verifyS],
  );
  await audit(tx, incident.id, {
    actor: 'system',
    source: 'verification',
    action: 'pre_alarm',
    from: incident.status,
    to: incident.status,
    ...noteOf('pre_alarm_started', { verifyS: rules.verification.verifyS, confirmS: rules.verification.confirmS }),
  });
  return toIncident(rows[0] as IncidentRow);
}

/** A verified pre-alarm becomes the dispatch of its level. */
export async function confirmPreAlarm(tx: Queryable, incident: Incident, why: Note, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET verification = 'confirmed', dispatchable = (group_id IS NULL AND NOT chattering), updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incident.id],
  );
  const confirmed = toIncident(rows[0] as IncidentRow);
  await audit(tx, incident.id, { actor: 'system', source: 'verification', action: 'verify', from: incident.status, to: incident.status, ...why });
  return routeAndDispatch(tx, confirmed, options, outcome);
}

/** A pre-alarm whose every source cleared before verification: recorded, closed, a false-alarm count of the device. */
export async function dismissPreAlarm(tx: Queryable, incident: Incident, actor: string, outcome: Outcome): Promise<Incident> {
  await tx.query("UPDATE incidents SET verification = 'unconfirmed' WHERE id = $1", [incident.id]);
  await tx.query('UPDATE incident_sources SET open = false WHERE incident_id = $1 AND open', [incident.id]);
  await audit(tx, incident.id, { actor, source: 'verification', action: 'unconfirmed', from: incident.status, to: incident.status, ...noteOf('pre_alarm_unconfirmed', {}) });
  return autoClear(tx, (await getIncident(tx, incident.id, true)) as Incident, actor, outcome);
}

/**
 * A raise of a source whose pre-alarm cleared unconfirmed within the confirmation period: the same
 * incident opens again, confirmed, and is dispatched. Null when there is none.
 */
export async function confirmByRepeat(
  tx: Queryable,
  gateway: GatewayRecord,
  event: AlarmEvent,
  rules: AlarmRules,
  options: EngineOptions,
  outcome: Outcome,
): Promise<Incident | null> {
  if (!rules.verification.enabled) return null;
  const rows = await tx.query<{ id: string }>(
    `SELECT i.id FROM incidents i JOIN incident_sources s ON s.incident_id = i.id AND s.gateway_id = $1 AND s.device_id = $2 AND s.alarm_type = $3
     WHERE i.verification = 'unconfirmed' AND i.raised_edge_time >= to_timestamp($4::double precision / 1000) - make_interval(secs => $5::double precision)
     ORDER BY i.id DESC LIMIT 1 FOR UPDATE`,
    [gateway.gatewayId, event.deviceId, event.alarmType, event.edgeTime, rules.verification.confirmS],
  );
  if (!rows[0]) return null;
  const id = Number(rows[0].id);
  const reopened = await tx.query<IncidentRow>(
    `UPDATE incidents SET open = true, status = 'raised', cleared_at = NULL, occurrences = occurrences + 1, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [id],
  );
  await tx.query('UPDATE incident_sources SET open = true WHERE incident_id = $1 AND gateway_id = $2 AND device_id = $3 AND alarm_type = $4', [id, gateway.gatewayId, event.deviceId, event.alarmType]);
  return confirmPreAlarm(tx, toIncident(reopened[0] as IncidentRow), noteOf('pre_alarm_repeat_within', { deviceId: event.deviceId, confirmS: rules.verification.confirmS }), options, outcome);
}

/** The job's half: pre-alarms still active at their verification time (`nowMs`, the rehearsal or wall clock) are dispatched. */
export async function promoteDuePreAlarms(tx: Queryable, nowMs: number, options: EngineOptions, outcome: Outcome): Promise<Incident[]> {
  const due = await tx.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE verification = 'pre_alarm' AND open AND verify_due_at <= to_timestamp($1::double precision / 1000)
     ORDER BY id FOR UPDATE SKIP LOCKED`,
    [nowMs],
  );
  const promoted: Incident[] = [];
  for (const row of due) {
    const incident = toIncident(row);
    if ((await activeSources(tx, incident.id)) === 0) continue;
    promoted.push(await confirmPreAlarm(tx, incident, noteOf('pre_alarm_persisted', {}), options, outcome));
  }
  return promoted;
}
