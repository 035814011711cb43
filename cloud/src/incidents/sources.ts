// Sources (gateway, device, alarm type) feeding an incident, and the member list the API shows.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import type { IncidentMember } from './incident.ts';

export async function openIncidentOf(tx: Queryable, gatewayId: string, deviceId: string, alarmType: string): Promise<number | null> {
  const rows = await tx.query<{ incident_id: string }>(
    'SELECT incident_id FROM incident_sources WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND open',
    [gatewayId, deviceId, alarmType],
  );
  return rows[0] ? Number(rows[0].incident_id) : null;
}

/** The open incident of the same device and hazard family (gas_low open when gas_high comes). */
export async function openIncidentOfDevice(tx: Queryable, gatewayId: string, deviceId: string, hazard: string): Promise<number | null> {
  const rows = await tx.query<{ id: string }>(
    `SELECT i.id FROM incidents i JOIN incident_sources s ON s.incident_id = i.id
     WHERE s.gateway_id = $1 AND s.device_id = $2 AND s.open AND i.open AND i.hazard = $3 AND i.group_id IS NULL
     ORDER BY i.id LIMIT 1`,
    [gatewayId, deviceId, hazard],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

export async function addSource(tx: Queryable, incidentId: number, gatewayId: string, deviceId: string, alarmType: string): Promise<void> {
  await tx.query('INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) VALUES ($1, $2, $3, $4)', [incidentId, gatewayId, deviceId, alarmType]);
}

export function memberOf(gateway: GatewayRecord, event: AlarmEvent, address: Address | null): IncidentMember {
  return { gatewayId: gateway.gatewayId, deviceId: event.deviceId, alarmType: event.alarmType, addressId: address?.addressId ?? event.addressId ?? null };
}
