// Turns committed alarm events into incidents, inside the caller's transaction. Idempotency comes
// from the events primary key: an event id the cloud already holds is counted as a duplicate and
// never touches an incident again, so replays after reconnects leave exactly one occurrence.
//
// A raise, in order: repeat of an open source → one more occurrence; another device in the same
// building within 2 minutes → joins that incident and raises its level by one (correlation);
// more than 10 alarms within 10 minutes in one community → recorded under one grouped notice
// (ISA-18.2 alarm flood); a source raising ≥ 5 times within 60 s is chattering → recorded, not
// dispatched. Concurrent raises in one community serialise on an advisory lock, so two replicas
// cannot both decide "first in the building".
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import { enqueueDispatch } from '../dispatch/queue.ts';
import { getAddress, type Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { DEFAULT_DEADLINES } from '../config.ts';
import { audit, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { autoClear, routeAndDispatch } from './lifecycle.ts';
import { Outcome, type EngineOptions } from './outcome.ts';

export interface ApplyResult {
  /** Event ids inserted by this call. */
  inserted: string[];
  /** Event ids the cloud already held; acknowledged again but not re-applied. */
  duplicates: string[];
  /** Incidents created or changed, final state, one entry per incident. */
  incidents: Incident[];
}

export const CORRELATION_WINDOW_S = 120;
export const FLOOD_WINDOW_S = 600;
/** "More than 10 alarms in 10 minutes": the 11th joins the grouped notice. */
export const FLOOD_THRESHOLD = 10;
export const CHATTER_WINDOW_S = 60;
export const CHATTER_THRESHOLD = 5;

export const DEFAULT_ENGINE: EngineOptions = { deadlines: DEFAULT_DEADLINES, autoCloseTypes: ['*'] };

export async function applyEvents(
  tx: Queryable,
  gateway: GatewayRecord,
  events: readonly AlarmEvent[],
  options: EngineOptions = DEFAULT_ENGINE,
  outcome: Outcome = new Outcome(),
): Promise<ApplyResult> {
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
    const address = await bindDevice(tx, gateway, event);
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [address ? `community:${address.community}` : `source:${gateway.gatewayId}/${event.deviceId}`]);
    const local = new Outcome();
    const incident = event.action === 'raise' ? await raise(tx, gateway, event, address, options, local) : await clear(tx, gateway, event, options, local);
    if (incident) await tx.query('UPDATE events SET incident_id = $1 WHERE event_id = $2', [incident.id, event.id]);
    for (const i of local.incidents.values()) {
      changed.set(i.id, i);
      outcome.touch(i);
    }
    outcome.dispatches.push(...local.dispatches);
    outcome.queued ||= local.queued;
  }
  if (inserted.length > 0) await tx.query('UPDATE gateways SET last_seen_at = now() WHERE id = $1', [gateway.gatewayId]);
  return { inserted, duplicates, incidents: [...changed.values()] };
}

/** Keeps the device ↔ address binding current (the edge sends addressId on each event) and returns the address. */
async function bindDevice(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent): Promise<Address | null> {
  let addressId = event.addressId ?? null;
  if (addressId) {
    await tx.query(
      `INSERT INTO devices (gateway_id, device_id, address_id) VALUES ($1, $2, $3)
       ON CONFLICT (gateway_id, device_id) DO UPDATE SET address_id = EXCLUDED.address_id, updated_at = now()
       WHERE devices.address_id IS DISTINCT FROM EXCLUDED.address_id`,
      [gateway.gatewayId, event.deviceId, addressId],
    );
  } else {
    const rows = await tx.query<{ address_id: string | null }>('SELECT address_id FROM devices WHERE gateway_id = $1 AND device_id = $2', [gateway.gatewayId, event.deviceId]);
    addressId = rows[0]?.address_id ?? null;
  }
  return addressId ? getAddress(tx, addressId) : null;
}

async function openIncidentOf(tx: Queryable, gatewayId: string, deviceId: string, alarmType: string): Promise<number | null> {
  const rows = await tx.query<{ incident_id: string }>(
    'SELECT incident_id FROM incident_sources WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND open',
    [gatewayId, deviceId, alarmType],
  );
  return rows[0] ? Number(rows[0].incident_id) : null;
}

async function addSource(tx: Queryable, incidentId: number, gatewayId: string, deviceId: string, alarmType: string): Promise<void> {
  await tx.query('INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) VALUES ($1, $2, $3, $4)', [incidentId, gatewayId, deviceId, alarmType]);
}

async function raise(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, address: Address | null, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const held = await openIncidentOf(tx, gateway.gatewayId, event.deviceId, event.alarmType);
  if (held !== null) {
    const rows = await tx.query<IncidentRow>(
      `UPDATE incidents SET occurrences = occurrences + 1,
         reason = CASE WHEN $2 < level THEN $3 ELSE reason END,
         level = LEAST(level, $2), updated_at = now()
       WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
      [held, event.level, event.reason],
    );
    return outcome.touch(toIncident(rows[0] as IncidentRow));
  }

  if (address) {
    const correlated = await tx.query<{ id: string; device_count: number }>(
      `SELECT id, device_count FROM incidents
       WHERE open AND building = $1 AND kind IN ('device', 'correlated') AND group_id IS NULL
         AND raised_at > now() - make_interval(secs => $2)
         AND NOT EXISTS (SELECT 1 FROM incident_sources s WHERE s.incident_id = incidents.id AND s.gateway_id = $3 AND s.device_id = $4)
       ORDER BY id LIMIT 1 FOR UPDATE`,
      [address.building, CORRELATION_WINDOW_S, gateway.gatewayId, event.deviceId],
    );
    const target = correlated[0];
    if (target) {
      const id = Number(target.id);
      await addSource(tx, id, gateway.gatewayId, event.deviceId, event.alarmType);
      // The second device confirms the first: one level more urgent, once.
      const rows = await tx.query<IncidentRow>(
        `UPDATE incidents SET kind = 'correlated', device_count = device_count + 1, occurrences = occurrences + 1,
           level = CASE WHEN device_count = 1 THEN GREATEST(1, LEAST(level, $2) - 1) ELSE LEAST(level, $2) END,
           updated_at = now()
         WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
        [id, event.level],
      );
      const incident = toIncident(rows[0] as IncidentRow);
      await audit(tx, id, {
        actor: `gateway:${gateway.gatewayId}`,
        source: 'correlation',
        action: 'correlate',
        from: incident.status,
        to: incident.status,
        note: `${event.deviceId} (${event.alarmType}) in building ${address.building} joined; ${incident.deviceCount} devices, level ${incident.level}`,
      });
      // The responsible unit learns that a second device confirms the alarm.
      await enqueueDispatch(tx, incident, 'update', outcome);
      return outcome.touch(incident);
    }
  }

  const recent = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND action = 'raise'
       AND cloud_time > now() - make_interval(secs => $4)`,
    [gateway.gatewayId, event.deviceId, event.alarmType, CHATTER_WINDOW_S],
  );
  const chattering = (recent[0]?.n ?? 0) >= CHATTER_THRESHOLD;

  let groupId: number | null = null;
  if (address) {
    const inFlood = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM incidents WHERE community = $1 AND kind IN ('device', 'correlated')
         AND raised_at > now() - make_interval(secs => $2)`,
      [address.community, FLOOD_WINDOW_S],
    );
    if ((inFlood[0]?.n ?? 0) >= FLOOD_THRESHOLD) groupId = await floodNotice(tx, gateway, event, address, options, outcome);
  }

  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, reason, address_id, first_event_id,
       raised_edge_time, building, grid, community, street, district, dispatchable, chattering, group_id)
     VALUES ($1, $2, $3, $4, $5, 'raised', $6, $7, $8, to_timestamp($9::double precision / 1000), $10, $11, $12, $13, $14, $15, $16, $17)
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      event.deviceId,
      event.alarmType,
      event.level,
      event.reason,
      address?.addressId ?? event.addressId ?? null,
      event.id,
      event.edgeTime,
      address?.building ?? null,
      address?.grid ?? null,
      address?.community ?? null,
      address?.street ?? null,
      address?.district ?? null,
      !chattering && groupId === null,
      chattering,
      groupId,
    ],
  );
  const incident = toIncident(rows[0] as IncidentRow);
  await addSource(tx, incident.id, gateway.gatewayId, event.deviceId, event.alarmType);
  await audit(tx, incident.id, {
    actor: `gateway:${gateway.gatewayId}`,
    source: 'mqtt',
    action: 'raise',
    to: 'raised',
    note: chattering ? 'chattering source: recorded, not dispatched' : groupId !== null ? `folded into flood notice ${groupId}` : event.reason,
  });
  return routeAndDispatch(tx, incident, options, outcome);
}

/** The open grouped notice of a community in flood, created (and dispatched once) on first need. */
async function floodNotice(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, address: Address, options: EngineOptions, outcome: Outcome): Promise<number> {
  const existing = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE kind = 'flood' AND open AND community = $1 FOR UPDATE`, [address.community]);
  if (existing[0]) {
    const rows = await tx.query<IncidentRow>(
      `UPDATE incidents SET occurrences = occurrences + 1, level = LEAST(level, $2), updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
      [Number(existing[0].id), event.level],
    );
    return outcome.touch(toIncident(rows[0] as IncidentRow)).id;
  }
  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, level, status, reason, address_id, first_event_id,
       raised_edge_time, building, grid, community, street, district)
     VALUES ('flood', $1, $2, $3, 'alarm_flood', $4, 'raised', $5, NULL, $6, to_timestamp($7::double precision / 1000), NULL, NULL, $8, $9, $10)
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      `community:${address.community}`,
      event.level,
      `more than ${FLOOD_THRESHOLD} alarms within ${FLOOD_WINDOW_S / 60} minutes in community ${address.community}`,
      event.id,
      event.edgeTime,
      address.community,
      address.street,
      address.district,
    ],
  );
  const notice = toIncident(rows[0] as IncidentRow);
  await audit(tx, notice.id, { actor: 'system', source: 'flood', action: 'raise', to: 'raised', note: notice.reason });
  // A flood is the community's matter: route from the community tier, not a single grid.
  return (await routeAndDispatch(tx, notice, options, outcome)).id;
}

/** A clear closes the incident for the configured types; for the others it is recorded only. */
async function clear(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, options: EngineOptions, outcome: Outcome): Promise<Incident | null> {
  const id = await openIncidentOf(tx, gateway.gatewayId, event.deviceId, event.alarmType);
  if (id === null) return null;
  const autoClose = options.autoCloseTypes.includes('*') || options.autoCloseTypes.includes(event.alarmType);
  if (autoClose) {
    await tx.query('UPDATE incident_sources SET open = false WHERE incident_id = $1 AND gateway_id = $2 AND device_id = $3 AND alarm_type = $4 AND open', [
      id,
      gateway.gatewayId,
      event.deviceId,
      event.alarmType,
    ]);
    const others = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_sources WHERE incident_id = $1 AND open', [id]);
    const rows = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE`, [id]);
    const incident = toIncident(rows[0] as IncidentRow);
    if ((others[0]?.n ?? 0) === 0) return autoClear(tx, incident, `gateway:${gateway.gatewayId}`, outcome);
    await audit(tx, id, { actor: `gateway:${gateway.gatewayId}`, source: 'device', action: 'device_clear', from: incident.status, to: incident.status, note: `${event.deviceId} cleared; other devices still in alarm` });
    return outcome.touch(incident);
  }
  const rows = await tx.query<IncidentRow>(`UPDATE incidents SET cleared_at = now(), updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [id]);
  const incident = toIncident(rows[0] as IncidentRow);
  await audit(tx, id, {
    actor: `gateway:${gateway.gatewayId}`,
    source: 'device',
    action: 'device_clear',
    from: incident.status,
    to: incident.status,
    note: `${event.alarmType} does not close on a device clear; staff close it`,
  });
  return outcome.touch(incident);
}
