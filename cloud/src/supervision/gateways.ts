// Supervision of gateways ("silence is an alarm"). A gateway is alive while it sends anything:
// status, events or telemetry are all proof of life. It is offline when its last will says so or it
// has been silent longer than the heartbeat timeout. An incident opens only after the gateway has
// stayed offline for the hold-off (a connection flap or broker restart opens nothing), and closes only
// after it has stayed back for the restore time, so a link flapping every few seconds keeps one
// incident open instead of raising and clearing one per flap (on-delay and off-delay, like the
// edge's rules). The ticker runs the sweep every second. EN 50136-1 reporting classes bound how
// long a path failure may take to report; set the hold-off below the class's limit where one applies.
import type { GatewayRecord } from '../gateways/registry.ts';
import { audit, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from '../incidents/incident.ts';
import { autoClear, routeAndDispatch } from '../incidents/lifecycle.ts';
import type { EngineOptions, Outcome } from '../incidents/outcome.ts';
import { noteOfReason, reasonOf, type Reason } from '../incidents/reasons.ts';
import { getAddress } from '../routing/directory.ts';
import type { Queryable, Store } from '../store/store.ts';

export const GATEWAY_DEVICE = '_gateway';
export const GATEWAY_ALARM = 'gateway_offline';
export const GATEWAY_LEVEL = 2;

export interface GatewaySupervision {
  /** Offline for longer than this before an incident opens (seconds; 0 = at once). */
  holdOffS: number;
  /** Back online for this long before the offline incident closes (seconds; 0 = at once). */
  restoreS: number;
}

export const DEFAULT_GATEWAY_SUPERVISION: Readonly<GatewaySupervision> = Object.freeze({ holdOffS: 60, restoreS: 10 });

/** "now" in SQL: parameter `$n` (epoch ms on the rehearsal clock) when set, else the database clock. */
const at = (n: number): string => `COALESCE(to_timestamp($${n}::double precision / 1000), now())`;
const clockOf = (options: EngineOptions): number | null => (options.clock ? options.clock() : null);

/** Records that the gateway went offline now (its last will, an orderly shutdown); no incident yet. `atMs`: the rehearsal clock. */
export async function markOffline(db: Queryable, gatewayId: string, atMs: number | null = null): Promise<void> {
  await db.query(
    `UPDATE gateways SET status = 'offline', online_since = NULL,
       offline_since = CASE WHEN status = 'offline' AND offline_since IS NOT NULL THEN offline_since ELSE ${at(2)} END
     WHERE id = $1`,
    [gatewayId, atMs],
  );
}

/** Any message from the gateway: seen now, and online (since now, if it was not). `atMs`: the rehearsal clock. */
export async function markAlive(db: Queryable, gatewayId: string, atMs: number | null = null): Promise<void> {
  await db.query(
    `UPDATE gateways SET last_seen_at = ${at(2)}, offline_since = NULL,
       online_since = CASE WHEN status = 'online' AND online_since IS NOT NULL THEN online_since ELSE ${at(2)} END, status = 'online'
     WHERE id = $1`,
    [gatewayId, atMs],
  );
}

/** Opens the gateway's offline incident unless one is open; returns it when newly opened. */
export async function gatewayOffline(tx: Queryable, gateway: GatewayRecord, reason: Reason, options: EngineOptions, outcome: Outcome): Promise<Incident | null> {
  // The gateway's devices tell where it is; routing then finds the grid worker like for any alarm.
  const bound = await tx.query<{ address_id: string }>(
    'SELECT address_id FROM devices WHERE gateway_id = $1 AND address_id IS NOT NULL ORDER BY device_id LIMIT 1',
    [gateway.gatewayId],
  );
  const address = bound[0] ? await getAddress(tx, bound[0].address_id) : null;
  const member = JSON.stringify([{ gatewayId: gateway.gatewayId, deviceId: GATEWAY_DEVICE, alarmType: GATEWAY_ALARM, addressId: address?.addressId ?? null }]);
  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, hazard, level, status, reason, address_id, members, first_event_id,
       raised_edge_time, building, grid, community, street, district, reason_code, reason_params)
     VALUES ('gateway', $1, $2, $3, $4, 'supervision', $5, 'raised', $6, $7, $8::text::jsonb, $9, ${at(17)}, $10, $11, $12, $13, $14, $15, $16::text::jsonb)
     ON CONFLICT (gateway_id, device_id, alarm_type) WHERE open DO NOTHING
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      GATEWAY_DEVICE,
      GATEWAY_ALARM,
      GATEWAY_LEVEL,
      reason.reason,
      address?.addressId ?? null,
      member,
      `status:${gateway.gatewayId}:${Date.now()}`,
      address?.building ?? null,
      address?.grid ?? null,
      address?.community ?? null,
      address?.street ?? null,
      address?.district ?? null,
      reason.reasonCode,
      JSON.stringify(reason.reasonParams),
      clockOf(options),
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
  await audit(tx, incident.id, { actor: 'system', source: 'supervision', action: 'raise', to: 'raised', ...noteOfReason(reason) });
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

/** Gateways silent for longer than `timeoutS` are offline since they were last seen. */
async function markSilent(tx: Queryable, timeoutS: number, atMs: number | null): Promise<number> {
  const silent = await tx.query<{ id: string }>(
    `UPDATE gateways SET status = 'offline', online_since = NULL, offline_since = COALESCE(last_seen_at, ${at(2)})
     WHERE id IN (SELECT id FROM gateways WHERE status = 'online' AND last_seen_at < ${at(2)} - make_interval(secs => $1)
                  FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [timeoutS, atMs],
  );
  return silent.length;
}

async function openHeldOff(tx: Queryable, holdOffS: number, options: EngineOptions, outcome: Outcome): Promise<number> {
  const due = await tx.query<{ id: string; site: string; secs: number }>(
    `SELECT g.id, g.site, extract(epoch FROM ${at(4)} - g.offline_since)::int AS secs FROM gateways g
     WHERE g.status = 'offline' AND g.offline_since <= ${at(4)} - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.gateway_id = g.id AND i.device_id = $2 AND i.alarm_type = $3 AND i.open)
     FOR UPDATE OF g SKIP LOCKED`,
    [holdOffS, GATEWAY_DEVICE, GATEWAY_ALARM, clockOf(options)],
  );
  for (const g of due) await gatewayOffline(tx, { gatewayId: g.id, site: g.site }, reasonOf('gateway_offline', { secs: g.secs, holdOffS }), options, outcome);
  return due.length;
}

async function closeRestored(tx: Queryable, restoreS: number, atMs: number | null, outcome: Outcome): Promise<number> {
  const back = await tx.query<{ id: string }>(
    `SELECT g.id FROM gateways g
     WHERE g.status = 'online' AND g.online_since <= ${at(4)} - make_interval(secs => $1)
       AND EXISTS (SELECT 1 FROM incidents i WHERE i.gateway_id = g.id AND i.device_id = $2 AND i.alarm_type = $3 AND i.open)
     FOR UPDATE OF g SKIP LOCKED`,
    [restoreS, GATEWAY_DEVICE, GATEWAY_ALARM, atMs],
  );
  for (const g of back) await gatewayOnline(tx, g.id, outcome);
  return back.length;
}

/**
 * One supervision sweep: silent gateways become offline (when `timeoutS` > 0), gateways offline
 * beyond the hold-off get their incident, gateways back beyond the restore time get it closed.
 * Returns the number of gateways newly marked silent. Time: the engine's clock (a rehearsal), else the database's.
 */
export async function checkHeartbeats(store: Store, timeoutS: number, options: EngineOptions, outcome: Outcome): Promise<number> {
  const supervision = options.gatewaySupervision ?? DEFAULT_GATEWAY_SUPERVISION;
  return store.transaction(async (tx) => {
    const silent = timeoutS > 0 ? await markSilent(tx, timeoutS, clockOf(options)) : 0;
    await openHeldOff(tx, supervision.holdOffS, options, outcome);
    await closeRestored(tx, supervision.restoreS, clockOf(options), outcome);
    return silent;
  });
}
