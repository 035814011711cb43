// Turns committed alarm events into incidents, inside the caller's transaction. Idempotency comes
// from the events primary key: an event id the cloud already holds is counted as a duplicate and
// never touches an incident again, so replays after reconnects leave exactly one occurrence.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Queryable } from '../store/store.ts';
import { INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';

export interface ApplyResult {
  /** Event ids inserted by this call. */
  inserted: string[];
  /** Event ids the cloud already held; acknowledged again but not re-applied. */
  duplicates: string[];
  /** Incidents created or changed, final state, one entry per incident. */
  incidents: Incident[];
}

export async function applyEvents(tx: Queryable, gateway: GatewayRecord, events: readonly AlarmEvent[]): Promise<ApplyResult> {
  const inserted: string[] = [];
  const duplicates: string[] = [];
  const changed = new Map<number, Incident>();
  for (const event of events) {
    const rows = await tx.query<{ event_id: string }>(
      `INSERT INTO events (event_id, gateway_id, site, seq, device_id, profile_id, alarm_type, action, level, reason,
         edge_time, test, address_id, readings)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11::double precision / 1000), $12, $13, $14::text::jsonb)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [
        event.id,
        gateway.gatewayId,
        gateway.site,
        event.seq,
        event.deviceId,
        event.profileId,
        event.alarmType,
        event.action,
        event.level,
        event.reason,
        event.edgeTime,
        event.test ?? false,
        event.addressId ?? null,
        event.readings ? JSON.stringify(event.readings) : null,
      ],
    );
    if (rows.length === 0) {
      duplicates.push(event.id);
      continue;
    }
    inserted.push(event.id);
    // Installer tests are recorded for the commissioning report but never become incidents.
    if (event.test) continue;
    const incident = event.action === 'raise' ? await raise(tx, gateway, event) : await clear(tx, gateway, event);
    if (incident) {
      await tx.query('UPDATE events SET incident_id = $1 WHERE event_id = $2', [incident.id, event.id]);
      changed.set(incident.id, incident);
    }
  }
  if (inserted.length > 0) await tx.query('UPDATE gateways SET last_seen_at = now() WHERE id = $1', [gateway.gatewayId]);
  return { inserted, duplicates, incidents: [...changed.values()] };
}

/** A raise opens an incident, or counts as one more occurrence of the open one (level 1 is most urgent). */
async function raise(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent): Promise<Incident> {
  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, reason, address_id, first_event_id,
       raised_edge_time)
     VALUES ($1, $2, $3, $4, $5, 'raised', $6, $7, $8, to_timestamp($9::double precision / 1000))
     ON CONFLICT (gateway_id, device_id, alarm_type) WHERE open DO UPDATE SET
       occurrences = incidents.occurrences + 1,
       reason = CASE WHEN EXCLUDED.level < incidents.level THEN EXCLUDED.reason ELSE incidents.reason END,
       level = LEAST(incidents.level, EXCLUDED.level),
       address_id = COALESCE(incidents.address_id, EXCLUDED.address_id),
       updated_at = now()
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      event.deviceId,
      event.alarmType,
      event.level,
      event.reason,
      event.addressId ?? null,
      event.id,
      event.edgeTime,
    ],
  );
  return toIncident(rows[0] as IncidentRow);
}

/** A clear closes the open incident for the same source, if there is one. */
async function clear(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent): Promise<Incident | null> {
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET status = 'cleared', open = false, cleared_at = now(), updated_at = now()
     WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND open
     RETURNING ${INCIDENT_COLUMNS}`,
    [gateway.gatewayId, event.deviceId, event.alarmType],
  );
  return rows[0] ? toIncident(rows[0]) : null;
}
