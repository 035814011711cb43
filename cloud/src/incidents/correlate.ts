// Correlation within one hazard family (ARCHITECTURE.md "Hazard families, not buildings,
// correlate"): another device of the same family in the same building within the window joins the
// open incident and confirms it (one level more urgent, once); a more severe alarm of the family
// from a device already in the incident (gas_low → gas_high) raises it. When the joining alarm is
// more urgent the incident takes its type and level and is routed again (reroute.ts).
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { rerouteAfterChange } from './reroute.ts';
import { deviceReason, noteOf, type Note } from './reasons.ts';
import { addSource, memberOf } from './sources.ts';
import { confirmPreAlarm } from './verification.ts';

/** Who asks, and the policy's correlation window (measured on edge times: a replay gives the same joins). */
export interface CorrelationProbe {
  gatewayId: string;
  event: AlarmEvent;
  windowS: number;
}

/** The open incident of the same hazard family in the building, raised within the window, that this device is not part of. */
export async function correlationTarget(tx: Queryable, address: Address, hazard: string, probe: CorrelationProbe): Promise<number | null> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM incidents
     WHERE open AND building = $1 AND hazard = $2 AND kind IN ('device', 'correlated') AND group_id IS NULL
       AND raised_edge_time > to_timestamp($6::double precision / 1000) - make_interval(secs => $3::double precision)
       AND NOT EXISTS (SELECT 1 FROM incident_sources s WHERE s.incident_id = incidents.id AND s.gateway_id = $4 AND s.device_id = $5)
     ORDER BY id LIMIT 1 FOR UPDATE`,
    [address.building, hazard, probe.windowS, probe.gatewayId, probe.event.deviceId, probe.event.edgeTime],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

export interface JoinInput {
  gateway: GatewayRecord;
  event: AlarmEvent;
  address: Address | null;
  /** True when another device joins (confirmation: kind correlated, device count + 1). */
  otherDevice: boolean;
}

/** The level after a join: the more urgent of the two; a second device confirms once (one level up). */
function joinedLevel(before: Incident, event: AlarmEvent, otherDevice: boolean): number {
  const level = Math.min(before.level, event.level);
  return otherDevice && before.deviceCount === 1 ? Math.max(1, level - 1) : level;
}

function joinedNote(event: AlarmEvent, address: Address | null, before: Incident, after: Incident): Note {
  const joined = { deviceId: event.deviceId, alarmType: event.alarmType, level: event.level, devices: after.deviceCount, incidentType: after.alarmType, fromLevel: before.level, toLevel: after.level };
  return address ? noteOf('device_joined_building', { ...joined, building: address.building ?? '' }) : noteOf('device_joined', joined);
}

export async function joinIncident(tx: Queryable, incidentId: number, input: JoinInput, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const { gateway, event, address, otherDevice } = input;
  const before = (await getIncident(tx, incidentId, true)) as Incident;
  await addSource(tx, incidentId, gateway.gatewayId, event.deviceId, event.alarmType);
  const takesOver = event.level < before.level;
  const member = JSON.stringify([memberOf(gateway, event, address)]);
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET kind = CASE WHEN $2 THEN 'correlated' ELSE kind END,
       device_count = device_count + CASE WHEN $2 THEN 1 ELSE 0 END, occurrences = occurrences + 1,
       level = $3, alarm_type = CASE WHEN $4 THEN $5 ELSE alarm_type END, reason = CASE WHEN $4 THEN $6 ELSE reason END,
       reason_code = CASE WHEN $4 THEN 'device_alarm' ELSE reason_code END, reason_params = CASE WHEN $4 THEN $8::text::jsonb ELSE reason_params END,
       members = CASE WHEN members @> $7::text::jsonb THEN members ELSE members || $7::text::jsonb END,
       cleared_at = NULL, updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incidentId, otherDevice, joinedLevel(before, event, otherDevice), takesOver, event.alarmType, event.reason, member, JSON.stringify(deviceReason(event).reasonParams)],
  );
  const after = toIncident(rows[0] as IncidentRow);
  await audit(tx, incidentId, {
    actor: `gateway:${gateway.gatewayId}`,
    source: 'correlation',
    action: otherDevice ? 'correlate' : 'escalate_level',
    from: after.status,
    to: after.status,
    ...joinedNote(event, address, before, after),
  });
  // A second detector confirms a pre-alarm (verification.ts): it is dispatched at the joined level.
  if (otherDevice && after.verification === 'pre_alarm') return confirmPreAlarm(tx, after, noteOf('pre_alarm_second_detector', { deviceId: event.deviceId }), options, outcome);
  return rerouteAfterChange(tx, before, after, options, outcome);
}
