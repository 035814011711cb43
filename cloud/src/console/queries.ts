// Read models of the console, all scoped to a user's jurisdictions: the board's list, an
// incident's context (address, readings of its events, latest values), the overview figures and,
// for installers, the test events the commissioning CLI waits for.
import { scopeFilter, type Located } from '../auth/scope.ts';
import type { User } from '../auth/users.ts';
import { AUDIT_ACTOR_NAME, AUDIT_COLUMNS, AUDIT_USERS_JOIN, listIncidents, toAuditEntry, type AuditEntry, type AuditRow, type Incident, type IncidentQuery } from '../incidents/incident.ts';
import { getAddress, route, type Address, type Unit } from '../routing/directory.ts';
import type { Queryable, SqlParam } from '../store/store.ts';

/** The board's filters and the history view's range (GET /api/v1/incidents); all optional, combined with AND. */
export interface IncidentFilter {
  /** Any of these levels (1 most urgent … 5). */
  levels?: readonly number[];
  alarmType?: string;
  grid?: string;
  /** Search text: an address's text, its place name (shop, household) or a device id of any member contains it. */
  q?: string;
  /** raised_at range, epoch ms, from inclusive, to exclusive; closed incidents included (history). */
  from?: number;
  to?: number;
  /** Only incidents shelved now (搁置). */
  shelved?: boolean;
}

/** A LIKE pattern matching `text` literally anywhere: \, % and _ are escaped (ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** SQL conditions of a filter, each value a parameter pushed onto `params`. */
export function filterConditions(filter: IncidentFilter, params: SqlParam[]): string[] {
  const where: string[] = [];
  const param = (value: SqlParam): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.levels && filter.levels.length > 0) where.push(`level = ANY(${param(`{${filter.levels.map((l) => Math.trunc(l)).join(',')}}`)}::int[])`);
  if (filter.alarmType) where.push(`alarm_type = ${param(filter.alarmType)}`);
  if (filter.grid) where.push(`grid = ${param(filter.grid)}`);
  if (filter.q) {
    const p = param(containsPattern(filter.q));
    where.push(
      // Every member counts, not only the first device: a correlated incident (two detectors in one
      // building, a flood notice) is found by any of its devices or addresses.
      `(device_id ILIKE ${p} ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM incident_sources s WHERE s.incident_id = incidents.id AND s.device_id ILIKE ${p} ESCAPE '\\')
        OR EXISTS (SELECT 1 FROM addresses a
          WHERE (a.address_id = incidents.address_id OR a.address_id IN (SELECT m->>'addressId' FROM jsonb_array_elements(incidents.members) m))
            AND (a.address_text ILIKE ${p} ESCAPE '\\' OR a.place_name ILIKE ${p} ESCAPE '\\')))`,
    );
  }
  if (filter.from !== undefined) where.push(`raised_at >= to_timestamp(${param(filter.from)}::double precision / 1000)`);
  if (filter.to !== undefined) where.push(`raised_at < to_timestamp(${param(filter.to)}::double precision / 1000)`);
  if (filter.shelved) where.push('shelved_until IS NOT NULL');
  return where;
}

/** The incidents a user may see (all of them for an anonymous caller in open-access mode), newest first. */
export async function listIncidentsFor(db: Queryable, user: User | null, query: IncidentQuery, filter: IncidentFilter = {}): Promise<Incident[]> {
  return listIncidents(db, query, (params) => [user ? scopeFilter(user, params) : 'true', ...filterConditions(filter, params)].join(' AND '));
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
  /** Telemetry dropped by policy since this process started, not scoped (telemetry/dropped.ts); the route adds it. */
  telemetryDropped: { lines: number; messages: number };
}

/** The district's figure to beat for level-1 acknowledgement within 5 minutes. */
export const LEVEL1_ACK_TARGET = 0.93;

export async function overview(db: Queryable, user: User | null, sinceDays = 30): Promise<Omit<Overview, 'telemetryDropped'>> {
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

/** Wall-clock shift starts ("HH:MM") in a time zone: 08:00 and 20:00 Asia/Shanghai unless configured. */
export interface ShiftClock {
  starts: readonly string[];
  timeZone: string;
}

/** Offset of `timeZone` from UTC at instant `t`, in ms (Intl only: no tz database of our own). */
function zoneOffsetMs(t: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const wall = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The latest shift start at or before `now`. */
export function shiftStart(now: number, clock: ShiftClock): number {
  const offset = zoneOffsetMs(now, clock.timeZone);
  const local = new Date(now + offset);
  let best = -Infinity;
  for (const back of [0, 1]) {
    for (const start of clock.starts) {
      const [h, m] = start.split(':').map(Number) as [number, number];
      const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() - back, h, m);
      const at = wall - zoneOffsetMs(wall - offset, clock.timeZone);
      if (at <= now && at > best) best = at;
    }
  }
  return best;
}

export interface HandoverAuditEntry extends AuditEntry {
  incidentId: number;
}

export interface Handover {
  /** ISO-8601: the start of the period summarised (the shift start unless asked otherwise). */
  since: string;
  /** Open incidents on the board (not folded into a group), shelved ones included, newest first. */
  open: Incident[];
  /** Open incidents that missed a deadline (fired) or whose pending deadline is past due. */
  overdue: Incident[];
  happened: { raised: number; resolved: number; falseAlarms: number; escalations: number; byType: { type: string; count: number }[] };
  /** Audit rows since, newest first, at most 200. */
  audit: HandoverAuditEntry[];
}

const HANDOVER_AUDIT_LIMIT = 200;
const HANDOVER_LIST_LIMIT = 500;

/** The shift handover summary of the community office, in the caller's jurisdictions. */
export async function handover(db: Queryable, user: User | null, since: number): Promise<Handover> {
  const scoped = (params: SqlParam[], alias = ''): string => (user ? scopeFilter(user, params, alias) : 'true');
  const open = await listIncidents(db, { limit: HANDOVER_LIST_LIMIT }, (params) => `${scoped(params)} AND open AND group_id IS NULL`);
  const overdue = await listIncidents(
    db,
    { limit: HANDOVER_LIST_LIMIT },
    (params) =>
      `${scoped(params)} AND open AND EXISTS (SELECT 1 FROM deadlines d WHERE d.incident_id = incidents.id
         AND (d.fired_at IS NOT NULL OR (d.cancelled_at IS NULL AND d.paused_at IS NULL AND d.due_at < now())))`,
  );
  const params: SqlParam[] = [since];
  const scope = scoped(params, 'i.');
  const n = (v: string | number | undefined): number => Number(v ?? 0);
  const raised = await db.query<{ alarm_type: string; n: string | number }>(
    `SELECT alarm_type, count(*) AS n FROM incidents i WHERE raised_at >= to_timestamp($1::double precision / 1000) AND status <> 'test' AND kind <> 'flood' AND ${scope}
     GROUP BY alarm_type ORDER BY n DESC, alarm_type`,
    params,
  );
  const acted = await db.query<{ resolved: string | number; false_alarms: string | number; escalations: string | number }>(
    `SELECT count(DISTINCT x.incident_id) FILTER (WHERE x.action = 'resolve') AS resolved,
       count(DISTINCT x.incident_id) FILTER (WHERE x.action = 'false_alarm') AS false_alarms,
       count(*) FILTER (WHERE x.action = 'escalate') AS escalations
     FROM incident_audit x JOIN incidents i ON i.id = x.incident_id WHERE x.at >= to_timestamp($1::double precision / 1000) AND ${scope}`,
    params,
  );
  return {
    since: new Date(since).toISOString(),
    open,
    overdue,
    happened: {
      raised: raised.reduce((sum, r) => sum + n(r.n), 0),
      resolved: n(acted[0]?.resolved),
      falseAlarms: n(acted[0]?.false_alarms),
      escalations: n(acted[0]?.escalations),
      byType: raised.map((r) => ({ type: r.alarm_type, count: n(r.n) })),
    },
    audit: await auditSince(db, params, scope),
  };
}

async function auditSince(db: Queryable, params: SqlParam[], scope: string): Promise<HandoverAuditEntry[]> {
  const columns = AUDIT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ');
  const rows = await db.query<AuditRow & { incident_id: string | number }>(
    `SELECT ${columns}, ${AUDIT_ACTOR_NAME}, a.incident_id FROM incident_audit a JOIN incidents i ON i.id = a.incident_id ${AUDIT_USERS_JOIN}
     WHERE a.at >= to_timestamp($1::double precision / 1000) AND ${scope}
     ORDER BY a.at DESC, a.id DESC LIMIT ${HANDOVER_AUDIT_LIMIT}`,
    params,
  );
  return rows.map((r) => ({ ...toAuditEntry(r), incidentId: Number(r.incident_id) }));
}
