// Supervision: a gateway that is gone — its last will says offline, or it has been silent longer
// than the heartbeat timeout — becomes an incident at once (EN 50136-1 reporting class SP6/DP4
// wants a path failure reported within 20 s; the ticker runs every second). Back online clears it.
import type { GatewayRecord } from '../gateways/registry.ts';
import { audit, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from '../incidents/incident.ts';
import { autoClear, routeAndDispatch } from '../incidents/lifecycle.ts';
import type { EngineOptions, Outcome } from '../incidents/outcome.ts';
import { getAddress } from '../routing/directory.ts';
import type { Queryable, Store } from '../store/store.ts';

export const GATEWAY_DEVICE = '_gateway';
export const GATEWAY_ALARM = 'gateway_offline';
export const GATEWAY_LEVEL = 2;

/** Opens the gateway's offline incident unless one is open; returns it when newly opened. */
export async function gatewayOffline(tx: Queryable, gateway: GatewayRecord, reason: string, options: EngineOptions, outcome: Outcome): Promise<Incident | null> {
  // The gateway's devices tell where it is; routing then finds the grid worker like for any alarm.
  const bound = await tx.query<{ address_id: string }>(
    'SELECT address_id FROM devices WHERE gateway_id = $1 AND address_id IS NOT NULL ORDER BY device_id LIMIT 1',
    [gateway.gatewayId],
  );
  const address = bound[0] ? await getAddress(tx, bound[0].address_id) : null;
  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, level, status, reason, address_id, first_event_id,
       raised_edge_time, building, grid, community, street, district)
     VALUES ('gateway', $1, $2, $3, $4, $5, 'raised', $6, $7, $8, now(), $9, $10, $11, $12, $13)
     ON CONFLICT (gateway_id, device_id, alarm_type) WHERE open DO NOTHING
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      GATEWAY_DEVICE,
      GATEWAY_ALARM,
      GATEWAY_LEVEL,
      reason,
      address?.addressId ?? null,
      `status:${gateway.gatewayId}:${Date.now()}`,
      address?.building ?? null,
      address?.grid ?? null,
      address?.community ?? null,
      address?.street ?? null,
      address?.district ?? null,
    ],
  );
  if (!rows[0]) return null;
  const incident = toIncident(rows[0]);
  await tx.query('INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) VALUES ($1, $2, $3, $4)', [
    incident.id,
    gateway.gatewayId,
    GATEWAY_DEVICE,
    GATEWAY_ALARM,
  ]);
  await audit(tx, incident.id, { actor: 'system', source: 'supervision', action: 'raise', to: 'raised', note: reason });
  return routeAndDispatch(tx, incident, options, outcome);
}

/** Closes the open offline incident of a gateway that is back. */
export async function gatewayOnline(tx: Queryable, gatewayId: string, outcome: Outcome): Promise<Incident | null> {
  const rows = await tx.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE gateway_id = $1 AND device_id = $2 AND alarm_type = $3 AND open FOR UPDATE`,
    [gatewayId, GATEWAY_DEVICE, GATEWAY_ALARM],
  );
  if (!rows[0]) return null;
  return autoClear(tx, toIncident(rows[0]), 'system', outcome);
}

/** Marks gateways silent for longer than `timeoutS` offline and opens their incidents. */
export async function checkHeartbeats(store: Store, timeoutS: number, options: EngineOptions, outcome: Outcome): Promise<number> {
  return store.transaction(async (tx) => {
    const silent = await tx.query<{ id: string; site: string }>(
      `UPDATE gateways SET status = 'offline'
       WHERE id IN (SELECT id FROM gateways WHERE status = 'online' AND last_seen_at < now() - make_interval(secs => $1)
                    FOR UPDATE SKIP LOCKED)
       RETURNING id, site`,
      [timeoutS],
    );
    for (const g of silent) {
      await gatewayOffline(tx, { gatewayId: g.id, site: g.site }, `no heartbeat for more than ${timeoutS} s`, options, outcome);
    }
    return silent.length;
  });
}
