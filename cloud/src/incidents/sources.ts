// Sources (gateway, device, alarm type) feeding an incident, and the member list the API shows.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import type { IncidentMember } from './incident.ts';

/** The source's open incident ($1 gateway, $2 device, $3 alarm type). */
const OPEN_OF_SOURCE = 'SELECT incident_id FROM incident_sources WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND open';
/**
 * The device's open incident of a hazard family, the oldest ($1 gateway, $2 device, $`hazard`
 * hazard). min() rather than ORDER BY id LIMIT 1: with a LIMIT a generic plan (prepared statement)
 * may walk the incidents' primary key in order, every incident per alarm (seen in the storm bench).
 */
const openOfDevice = (hazard: number): string => `SELECT min(i.id) AS id FROM incidents i JOIN incident_sources s ON s.incident_id = i.id
     WHERE s.gateway_id = $1 AND s.device_id = $2 AND s.open AND i.open AND i.hazard = $${hazard} AND i.group_id IS NULL`;

export async function openIncidentOf(tx: Queryable, gatewayId: string, deviceId: string, alarmType: string): Promise<number | null> {
  const rows = await tx.query<{ incident_id: string }>(OPEN_OF_SOURCE, [gatewayId, deviceId, alarmType]);
  return rows[0] ? Number(rows[0].incident_id) : null;
}

/** The open incident of the same device and hazard family (gas_low open when gas_high comes). */
export async function openIncidentOfDevice(tx: Queryable, gatewayId: string, deviceId: string, hazard: string): Promise<number | null> {
  const rows = await tx.query<{ id: string | null }>(openOfDevice(3), [gatewayId, deviceId, hazard]);
  return rows[0]?.id == null ? null : Number(rows[0].id);
}

/** Both of the above in one round trip, for a raise that needs the second only if the first is null. */
export async function openIncidentsOf(tx: Queryable, gatewayId: string, deviceId: string, alarmType: string, hazard: string): Promise<{ source: number | null; device: number | null }> {
  const rows = await tx.query<{ source: string | null; device: string | null }>(
    `SELECT (${OPEN_OF_SOURCE} LIMIT 1) AS source, (${openOfDevice(4)}) AS device`,
    [gatewayId, deviceId, alarmType, hazard],
  );
  const row = rows[0];
  return { source: row?.source == null ? null : Number(row.source), device: row?.device == null ? null : Number(row.device) };
}

export async function addSource(tx: Queryable, incidentId: number, gatewayId: string, deviceId: string, alarmType: string): Promise<void> {
  await tx.query('INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) VALUES ($1, $2, $3, $4)', [incidentId, gatewayId, deviceId, alarmType]);
}

export function memberOf(gateway: GatewayRecord, event: AlarmEvent, address: Address | null): IncidentMember {
  return { gatewayId: gateway.gatewayId, deviceId: event.deviceId, alarmType: event.alarmType, addressId: address?.addressId ?? event.addressId ?? null };
}
