// Read models of the console, all scoped to a user's jurisdictions: the board's list, an
// incident's context (address, readings of its events, latest values), the overview figures and,
// for installers, the test events the commissioning CLI waits for.
import { scopeFilter, type Located } from '../auth/scope.ts';
import type { User } from '../auth/users.ts';
import { listIncidents, type Incident, type IncidentQuery } from '../incidents/incident.ts';
import { getAddress, route, type Address, type Unit } from '../routing/directory.ts';
import type { Queryable, SqlParam } from '../store/store.ts';

/** The incidents a user may see (all of them for an anonymous caller in open-access mode), newest first. */
export async function listIncidentsFor(db: Queryable, user: User | null, query: IncidentQuery): Promise<Incident[]> {
  return listIncidents(db, query, user ? (params) => scopeFilter(user, params) : undefined);
}

type Time = Date | string;
const ms = (t: Time): number => (t instanceof Date ? t.getTime() : new Date(t).getTime());

export interface EventReadings {
  eventId: string;
  action: string;
  level: number;
  reason: string;
  edgeTime: number;
  cloudTime: number;
  test: boolean;
  readings: unknown;
}

export interface DeadlineView {
  kind: string;
  dueAt: number;
  firedAt: number | null;
  cancelledAt: number | null;
}

export interface IncidentContext {
  address: Address | null;
  /** Alarm events of the incident's devices from 10 minutes before it was raised until now (≤ 50). */
  events: EventReadings[];
  deadlines: DeadlineView[];
}

export async function incidentContext(db: Queryable, incident: Incident): Promise<IncidentContext> {
  const address = incident.addressId ? await getAddress(db, incident.addressId) : null;
  const events = await db.query<{ event_id: string; action: string; level: number; reason: string; edge_time: Time; cloud_time: Time; test: boolean; readings: unknown }>(
    `SELECT event_id, action, level, reason, edge_time, cloud_time, test, readings FROM events
     WHERE incident_id = $1 OR (gateway_id = $2 AND device_id = $3 AND edge_time BETWEEN to_timestamp($4::double precision / 1000) - interval '10 minutes' AND now())
     ORDER BY edge_time DESC LIMIT 50`,
    [incident.id, incident.gatewayId, incident.deviceId, incident.raisedEdgeTime],
  );
  const deadlines = await db.query<{ kind: string; due_at: Time; fired_at: Time | null; cancelled_at: Time | null }>(
    'SELECT kind, due_at, fired_at, cancelled_at FROM deadlines WHERE incident_id = $1 ORDER BY id',
    [incident.id],
  );
  return {
    address,
    events: events.map((e) => ({
      eventId: e.event_id,
      action: e.action,
      level: Number(e.level),
      reason: e.reason,
      edgeTime: ms(e.edge_time),
      cloudTime: ms(e.cloud_time),
      test: e.test,
      readings: typeof e.readings === 'string' ? (JSON.parse(e.readings) as unknown) : e.readings,
    })),
    deadlines: deadlines.map((d) => ({ kind: d.kind, dueAt: ms(d.due_at), firedAt: d.fired_at === null ? null : ms(d.fired_at), cancelledAt: d.cancelled_at === null ? null : ms(d.cancelled_at) })),
  };
}

/** Pending deadlines per incident id, for the board's "time left". */
export async function pendingDeadlines(db: Queryable, ids: readonly number[]): Promise<Map<number, DeadlineView[]>> {
  const out = new Map<number, DeadlineView[]>();
  if (ids.length === 0) return out;
  const rows = await db.query<{ incident_id: string | number; kind: string; due_at: Time }>(
    `SELECT incident_id, kind, due_at FROM deadlines WHERE incident_id = ANY($1::bigint[]) AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY due_at`,
    [`{${ids.join(',')}}`],
  );
  for (const r of rows) {
    const id = Number(r.incident_id);
    const list = out.get(id) ?? [];
    list.push({ kind: r.kind, dueAt: ms(r.due_at), firedAt: null, cancelledAt: null });
    out.set(id, list);
  }
  return out;
}

export interface Overview {
  byLevel: Record<string, number>;
  byStatus: Record<string, number>;
  /** Handled incidents (resolved, closed, false alarm) none of whose deadlines fired, over all handled. */
  onTimeRate: number | null;
  /** Level-1 incidents acknowledged within 5 minutes, over level-1 incidents that are 5 minutes old or acknowledged. */
  level1AckWithin5Min: number | null;
  level1AckTarget: number;
  falseAlarmsByDevice: { gatewayId: string; deviceId: string; count: number }[];
  offlineGateways: { gatewayId: string; site: string; lastSeenAt: number | null }[];
  offlineDevices: { gatewayId: string; deviceId: string; since: number }[];
}

/** The district's figure to beat for level-1 acknowledgement within 5 minutes. */
export const LEVEL1_ACK_TARGET = 0.93;

export async function overview(db: Queryable, user: User | null, sinceDays = 30): Promise<Overview> {
  const params: SqlParam[] = [sinceDays];
  const scope = user ? scopeFilter(user, params) : 'true';
  const base = `FROM incidents WHERE raised_at > now() - make_interval(days => $1::int) AND status <> 'test' AND ${scope}`;
  const levels = await db.query<{ level: number; n: string | number }>(`SELECT level, count(*) AS n ${base} GROUP BY level`, params);
  const statuses = await db.query<{ status: string; n: string | number }>(`SELECT status, count(*) AS n ${base} GROUP BY status`, params);
  const onTime = await db.query<{ handled: string | number; on_time: string | number }>(
    `SELECT count(*) AS handled,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM deadlines d WHERE d.incident_id = incidents.id AND d.fired_at IS NOT NULL)) AS on_time
     ${base} AND status IN ('resolved', 'closed', 'false_alarm')`,
    params,
  );
  const ack = await db.query<{ due: string | number; met: string | number }>(
    `SELECT count(*) AS due, count(*) FILTER (WHERE acknowledged_at <= raised_at + interval '5 minutes') AS met
     ${base} AND level = 1 AND dispatchable AND (acknowledged_at IS NOT NULL OR raised_at < now() - interval '5 minutes')`,
    params,
  );
  const falseAlarms = await db.query<{ gateway_id: string; device_id: string; n: string | number }>(
    `SELECT gateway_id, device_id, count(*) AS n ${base} AND status = 'false_alarm' GROUP BY gateway_id, device_id ORDER BY n DESC, device_id LIMIT 20`,
    params,
  );
  const offlineDevices = await db.query<{ gateway_id: string; device_id: string; raised_at: Time }>(
    `SELECT gateway_id, device_id, raised_at ${base} AND open AND alarm_type IN ('offline', 'device_offline', 'heartbeat_lost', 'comm_fault') ORDER BY raised_at DESC LIMIT 50`,
    params,
  );
  // Gateways carry no address; a scoped user sees the offline gateways serving devices in their area.
  const gwParams: SqlParam[] = [];
  const gwScope = user ? scopeFilter(user, gwParams, 'a.') : 'true';
  const gateways = await db.query<{ id: string; site: string; last_seen_at: Time | null }>(
    `SELECT g.id, g.site, g.last_seen_at FROM gateways g WHERE g.status = 'offline' AND (${gwScope === 'true' ? 'true' : `EXISTS (SELECT 1 FROM devices dv JOIN addresses a ON a.address_id = dv.address_id WHERE dv.gateway_id = g.id AND ${gwScope})`}) ORDER BY g.id`,
    gwParams,
  );
  const n = (v: string | number | undefined): number => Number(v ?? 0);
  const handled = n(onTime[0]?.handled);
  const due = n(ack[0]?.due);
  return {
    byLevel: Object.fromEntries(levels.map((r) => [String(r.level), n(r.n)])),
    byStatus: Object.fromEntries(statuses.map((r) => [r.status, n(r.n)])),
    onTimeRate: handled === 0 ? null : n(onTime[0]?.on_time) / handled,
    level1AckWithin5Min: due === 0 ? null : n(ack[0]?.met) / due,
    level1AckTarget: LEVEL1_ACK_TARGET,
    falseAlarmsByDevice: falseAlarms.map((r) => ({ gatewayId: r.gateway_id, deviceId: r.device_id, count: n(r.n) })),
    offlineGateways: gateways.map((g) => ({ gatewayId: g.id, site: g.site, lastSeenAt: g.last_seen_at === null ? null : ms(g.last_seen_at) })),
    offlineDevices: offlineDevices.map((d) => ({ gatewayId: d.gateway_id, deviceId: d.device_id, since: ms(d.raised_at) })),
  };
}

export interface TestEvent {
  eventId: string;
  gatewayId: string;
  deviceId: string;
  alarmType: string;
  level: number;
  edgeTime: number;
  cloudTime: number;
  /** cloudTime − edgeTime: how long the report took from the gateway's rule engine to the cloud's commit. */
  uplinkMs: number;
  readings: unknown;
  address: Address | null;
  /** Where a real alarm from this device would be dispatched (routing rules applied to its address). */
  routedTo: { tier: string; unit: Unit | null } | null;
}

/**
 * Installer test reports (`test: true`), recorded but never made incidents: the commissioning
 * round trip. The device's address comes from the event, else the device binding.
 */
export async function testEvents(db: Queryable, filter: { gatewayId: string; deviceId?: string; since: number }): Promise<(TestEvent & Located)[]> {
  const params: SqlParam[] = [filter.gatewayId, filter.since];
  let device = '';
  if (filter.deviceId) {
    params.push(filter.deviceId);
    device = ` AND e.device_id = $${params.length}`;
  }
  const rows = await db.query<{ event_id: string; gateway_id: string; device_id: string; alarm_type: string; level: number; edge_time: Time; cloud_time: Time; readings: unknown; address_id: string | null }>(
    `SELECT e.event_id, e.gateway_id, e.device_id, e.alarm_type, e.level, e.edge_time, e.cloud_time, e.readings,
       COALESCE(e.address_id, dv.address_id) AS address_id
     FROM events e LEFT JOIN devices dv ON dv.gateway_id = e.gateway_id AND dv.device_id = e.device_id
     WHERE e.test AND e.action = 'raise' AND e.gateway_id = $1 AND e.cloud_time >= to_timestamp($2::double precision / 1000)${device}
     ORDER BY e.cloud_time DESC LIMIT 50`,
    params,
  );
  const out: (TestEvent & Located)[] = [];
  for (const r of rows) {
    const address = r.address_id ? await getAddress(db, r.address_id) : null;
    const where: Located = { grid: address?.grid ?? null, community: address?.community ?? null, street: address?.street ?? null, district: address?.district ?? null };
    const routed = address ? await route(db, where, r.alarm_type, Number(r.level)) : null;
    out.push({
      eventId: r.event_id,
      gatewayId: r.gateway_id,
      deviceId: r.device_id,
      alarmType: r.alarm_type,
      level: Number(r.level),
      edgeTime: ms(r.edge_time),
      cloudTime: ms(r.cloud_time),
      uplinkMs: ms(r.cloud_time) - ms(r.edge_time),
      readings: typeof r.readings === 'string' ? (JSON.parse(r.readings) as unknown) : r.readings,
      address,
      routedTo: routed,
      ...where,
    });
  }
  return out;
}
