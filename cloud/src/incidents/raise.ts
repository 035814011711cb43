// A raise, in order: a repeat of an open source → one more occurrence (a more urgent repeat raises
// the level and re-routes); a more severe alarm of the same hazard family from a device already in
// an open incident → joins it (same-device escalation, gas_low → gas_high); another device of the
// same family in the same building within the window → joins and confirms (correlate.ts); more
// than the policy's flood count within its window in one community → folded under one grouped
// notice (flood.ts); a source alarming again and again is chattering → one incident, recorded, not
// dispatched again (chatter.ts). Every window comes from the alarm policy (policy.ts) and is
// measured on edge times.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { flagChattering, isChattering, reopenChattering } from './chatter.ts';
import { correlationTarget, joinIncident } from './correlate.ts';
import { floodNotice, inFlood } from './flood.ts';
import { correlatesAcrossDevices, hazardOf, laneOf } from './hazards.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { routeAndDispatch } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { DEFAULT_ALARM_POLICY, rulesFor, type AlarmPolicy, type AlarmRules } from './policy.ts';
import { deviceReason, noteOf, noteOfReason } from './reasons.ts';
import { rerouteAfterChange } from './reroute.ts';
import { memberOf, openIncidentsOf } from './sources.ts';
import { confirmByRepeat, confirmPreAlarm, startPreAlarm } from './verification.ts';

export function policyOf(options: EngineOptions): AlarmPolicy {
  return options.alarmPolicy ?? DEFAULT_ALARM_POLICY;
}

/** The policy's rules for this event's type in its area. */
export function eventRules(options: EngineOptions, alarmType: string, address: Address | null): AlarmRules {
  return rulesFor(policyOf(options), alarmType, address ? { community: address.community, district: address.district } : null);
}

/** Maintenance-lane incidents run on the installer's deadlines, every level alike. */
export function laneOptions(options: EngineOptions, alarmType: string): EngineOptions {
  if (laneOf(alarmType) !== 'maintenance') return options;
  const row = policyOf(options).maintenanceDeadlines;
  return { ...options, deadlines: { 1: row, 2: row, 3: row, 4: row, 5: row } };
}

export interface RaiseContext {
  gateway: GatewayRecord;
  event: AlarmEvent;
  address: Address | null;
}

export async function raise(tx: Queryable, ctx: RaiseContext, engine: EngineOptions, outcome: Outcome): Promise<Incident> {
  const { gateway, event, address } = ctx;
  // One hazard family is one lane, so every path below runs on this lane's deadlines.
  const options = laneOptions(engine, event.alarmType);
  const rules = eventRules(options, event.alarmType, address);
  const hazard = hazardOf(event.alarmType);
  // Both lookups at once: the steps between them write nothing when they return null.
  const open = await openIncidentsOf(tx, gateway.gatewayId, event.deviceId, event.alarmType, hazard);
  const held = open.source;
  if (held !== null) return repeat(tx, held, { gateway, event, rules }, options, outcome);
  const confirmed = await confirmByRepeat(tx, gateway, event, rules, options, outcome);
  if (confirmed !== null) return confirmed;
  const reopened = await reopenChattering(tx, gateway, event, rules, outcome);
  if (reopened !== null) return reopened;
  const sameDevice = open.device;
  if (sameDevice !== null) return joinIncident(tx, sameDevice, { ...ctx, otherDevice: false }, options, outcome);
  if (address && correlatesAcrossDevices(event.alarmType)) {
    const target = await correlationTarget(tx, address, hazard, { gatewayId: gateway.gatewayId, event, windowS: rules.correlationWindowS });
    if (target !== null) return joinIncident(tx, target, { ...ctx, otherDevice: true }, options, outcome);
  }
  return openIncident(tx, { ...ctx, rules }, hazard, options, outcome);
}

/** One more occurrence of an open source; it is active again, and a more urgent repeat re-routes. */
async function repeat(
  tx: Queryable,
  incidentId: number,
  input: { gateway: GatewayRecord; event: AlarmEvent; rules: AlarmRules },
  options: EngineOptions,
  outcome: Outcome,
): Promise<Incident> {
  const { event } = input;
  let before = (await getIncident(tx, incidentId, true)) as Incident;
  if (await isChattering(tx, input.gateway.gatewayId, event, input.rules)) before = await flagChattering(tx, before, event);
  if (before.verification === 'pre_alarm') before = await confirmPreAlarm(tx, before, noteOf('pre_alarm_repeat', { deviceId: event.deviceId }), options, outcome);
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET occurrences = occurrences + 1,
       reason = CASE WHEN $2 < level THEN $3 ELSE reason END,
       reason_code = CASE WHEN $2 < level THEN $4 ELSE reason_code END, reason_params = CASE WHEN $2 < level THEN $5::text::jsonb ELSE reason_params END,
       level = LEAST(level, $2), cleared_at = NULL, updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incidentId, event.level, event.reason, 'device_alarm', JSON.stringify(deviceReason(event).reasonParams)],
  );
  const after = toIncident(rows[0] as IncidentRow);
  if (after.level === before.level) return outcome.touch(after);
  return rerouteAfterChange(tx, before, after, options, outcome);
}

async function openIncident(tx: Queryable, ctx: RaiseContext & { rules: AlarmRules }, hazard: string, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const { gateway, event, address, rules } = ctx;
  const chattering = await isChattering(tx, gateway.gatewayId, event, rules);
  const flooding = address !== null && rules.flood.fold && (await inFlood(tx, address, event, rules));
  const groupId = flooding ? await floodNotice(tx, { gateway, event, address, rules }, options, outcome) : null;
  const verifying = rules.verification.enabled && !chattering && groupId === null;
  const member = memberOf(gateway, event, address);
  const reason = deviceReason(event);
  // One statement opens the incident, records its source and links the event (apply.ts then skips
  // its own link for an incident the event opened): three round trips in one.
  const rows = await tx.query<IncidentRow>(
    `WITH inc AS (
       INSERT INTO incidents (gateway_id, site, device_id, alarm_type, hazard, level, status, reason, address_id, members, first_event_id,
         raised_edge_time, building, grid, community, street, district, dispatchable, chattering, group_id, reason_code, reason_params)
       VALUES ($1, $2, $3, $4, $5, $6, 'raised', $7, $8, $9::text::jsonb, $10, to_timestamp($11::double precision / 1000), $12, $13, $14, $15, $16, $17, $18, $19,
         $20, $21::text::jsonb)
       RETURNING ${INCIDENT_COLUMNS}
     ), source AS (
       INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) SELECT id, $1, $3, $4 FROM inc
     ), linked AS (
       UPDATE events SET incident_id = (SELECT id FROM inc) WHERE event_id = $10
     )
     SELECT * FROM inc`,
    [
      gateway.gatewayId,
      gateway.site,
      event.deviceId,
      event.alarmType,
      hazard,
      event.level,
      event.reason,
      member.addressId,
      JSON.stringify([member]),
      event.id,
      event.edgeTime,
      address?.building ?? null,
      address?.grid ?? null,
      address?.community ?? null,
      address?.street ?? null,
      address?.district ?? null,
      !chattering && groupId === null && !verifying,
      chattering,
      groupId,
      reason.reasonCode,
      JSON.stringify(reason.reasonParams),
    ],
  );
  let incident = toIncident(rows[0] as IncidentRow);
  await audit(tx, incident.id, {
    actor: `gateway:${gateway.gatewayId}`,
    source: 'mqtt',
    action: 'raise',
    to: 'raised',
    ...(chattering ? noteOf('chatter_recorded', {}) : groupId !== null ? noteOf('flood_member', { notice: groupId }) : noteOfReason(reason)),
  });
  if (verifying) incident = await startPreAlarm(tx, incident, event, rules);
  return routeAndDispatch(tx, incident, options, outcome);
}
