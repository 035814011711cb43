// A device clear. While another source of the incident is still in alarm it is only recorded. Once
// every source is back to normal the acknowledgement policy decides: types configured to close on a
// clear, at levels/types that need no acknowledgement, close (`cleared`); the others stay open as
// "returned, unacknowledged" (ISA-18.2) with their deadlines running and every action available.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Queryable } from '../store/store.ts';
import { ackRequired, DEFAULT_ACK_POLICY } from './ack-policy.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { autoClear } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { noteOf } from './reasons.ts';
import { activeSources } from './source-order.ts';
import { openIncidentOf } from './sources.ts';
import { dismissPreAlarm } from './verification.ts';

/** Whether the last clear closes the incident by itself. */
export function closesOnClear(options: EngineOptions, incident: Incident): boolean {
  const autoClose = options.autoCloseTypes.includes('*') || options.autoCloseTypes.includes(incident.alarmType);
  return autoClose && !ackRequired(options.ackPolicy ?? DEFAULT_ACK_POLICY, incident.alarmType, incident.level);
}

export async function clear(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, options: EngineOptions, outcome: Outcome): Promise<Incident | null> {
  const id = await openIncidentOf(tx, gateway.gatewayId, event.deviceId, event.alarmType);
  if (id === null) return null;
  const incident = (await getIncident(tx, id, true)) as Incident;
  const actor = `gateway:${gateway.gatewayId}`;
  if ((await activeSources(tx, id)) > 0) {
    await audit(tx, id, { actor, source: 'device', action: 'device_clear', from: incident.status, to: incident.status, ...noteOf('member_clear', { deviceId: event.deviceId, alarmType: event.alarmType }) });
    return outcome.touch(incident);
  }
  if (incident.verification === 'pre_alarm') return dismissPreAlarm(tx, incident, actor, outcome);
  if (closesOnClear(options, incident)) {
    await tx.query('UPDATE incident_sources SET open = false WHERE incident_id = $1 AND open', [id]);
    return autoClear(tx, incident, actor, outcome);
  }
  const rows = await tx.query<IncidentRow>(`UPDATE incidents SET cleared_at = now(), updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [id]);
  const returned = toIncident(rows[0] as IncidentRow);
  const awaiting = returned.status === 'raised' || returned.status === 'dispatched';
  await audit(tx, id, {
    actor,
    source: 'device',
    action: 'return',
    from: returned.status,
    to: returned.status,
    ...noteOf(awaiting ? 'returned_unack' : 'returned_ack', { deviceId: event.deviceId }),
  });
  return outcome.touch(returned);
}
