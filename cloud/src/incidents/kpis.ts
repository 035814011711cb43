// Alarm KPIs (ISA-18.2 § 16 "monitoring and assessment", EEMUA 191): per jurisdiction the board
// items per 10 minutes (average and worst bucket), the share of time in flood, the 10 most frequent
// sources, chattering and stale (> 24 h open) counts, and false alarms per device per day with the
// GB 50440 review flag (more than 5 a day). Computed on edge times over [from, to), so a replayed
// day gives the same figures as the live one.
import type { Queryable, SqlParam } from '../store/store.ts';

export interface AlarmKpis {
  fromMs: number;
  toMs: number;
  jurisdictions: { community: string; items: number; perTenMinutes: number; worstTenMinutes: number; floodPercent: number }[];
  topSources: { gatewayId: string; deviceId: string; alarmType: string; raises: number }[];
  chattering: number;
  stale: number;
  falseAlarms: { gatewayId: string; deviceId: string; day: string; count: number; review: boolean }[];
}

/** GB 50440: a device with more than this many false alarms a day is reviewed. */
export const FALSE_ALARMS_REVIEW_PER_DAY = 5;
const TEN_MINUTES_S = 600;

type Scope = (params: SqlParam[]) => string;

/** `incidents` rows raised in the period, visible in the scope; params $1 = from, $2 = to (ms). */
function window(params: SqlParam[], scope?: Scope): string {
  const visible = scope ? scope(params) : 'true';
  return `raised_edge_time >= to_timestamp($1::double precision / 1000) AND raised_edge_time < to_timestamp($2::double precision / 1000) AND status <> 'test' AND ${visible}`;
}

async function jurisdictions(db: Queryable, fromMs: number, toMs: number, scope?: Scope): Promise<AlarmKpis['jurisdictions']> {
  const params: SqlParam[] = [fromMs, toMs];
  const where = window(params, scope);
  const rows = await db.query<{ community: string; items: number; worst: number; flood_s: number | null }>(
    `WITH items AS (SELECT community, floor(extract(epoch FROM raised_edge_time) / ${TEN_MINUTES_S}) AS bucket FROM incidents
                    WHERE ${where} AND group_id IS NULL AND community IS NOT NULL),
          buckets AS (SELECT community, bucket, count(*)::int AS n FROM items GROUP BY community, bucket),
          floods AS (SELECT n.community, extract(epoch FROM GREATEST(n.raised_edge_time,
                       COALESCE((SELECT max(m.raised_edge_time) FROM incidents m WHERE m.group_id = n.id), n.raised_edge_time)) - n.raised_edge_time) AS secs
                     FROM incidents n WHERE n.kind = 'flood' AND ${where})
     SELECT b.community, sum(b.n)::int AS items, max(b.n)::int AS worst,
       (SELECT sum(f.secs)::double precision FROM floods f WHERE f.community = b.community) AS flood_s
     FROM buckets b GROUP BY b.community ORDER BY b.community`,
    params,
  );
  const periods = Math.max(1, (toMs - fromMs) / 1000 / TEN_MINUTES_S);
  return rows.map((r) => ({
    community: r.community,
    items: r.items,
    perTenMinutes: Math.round((r.items / periods) * 100) / 100,
    worstTenMinutes: r.worst,
    floodPercent: Math.round((10_000 * (r.flood_s ?? 0)) / Math.max(1, (toMs - fromMs) / 1000)) / 100,
  }));
}

async function topSources(db: Queryable, fromMs: number, toMs: number, scope?: Scope): Promise<AlarmKpis['topSources']> {
  const params: SqlParam[] = [fromMs, toMs];
  const visible = scope ? `incident_id IN (SELECT id FROM incidents WHERE ${scope(params)})` : 'true';
  const rows = await db.query<{ gateway_id: string; device_id: string; alarm_type: string; n: number }>(
    `SELECT gateway_id, device_id, alarm_type, count(*)::int AS n FROM events
     WHERE action = 'raise' AND applied AND NOT test AND edge_time >= to_timestamp($1::double precision / 1000) AND edge_time < to_timestamp($2::double precision / 1000)
       AND ${visible}
     GROUP BY gateway_id, device_id, alarm_type ORDER BY n DESC, gateway_id, device_id, alarm_type LIMIT 10`,
    params,
  );
  return rows.map((r) => ({ gatewayId: r.gateway_id, deviceId: r.device_id, alarmType: r.alarm_type, raises: r.n }));
}

async function counts(db: Queryable, fromMs: number, toMs: number, scope?: Scope): Promise<{ chattering: number; stale: number }> {
  const params: SqlParam[] = [fromMs, toMs];
  const where = window(params, scope);
  const chattering = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE ${where} AND chattering`, params);
  // Stale (ISA-18.2): still open more than 24 h after it was raised, wherever the raise falls.
  const staleParams: SqlParam[] = [toMs];
  const visible = scope ? scope(staleParams) : 'true';
  const stale = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM incidents WHERE open AND raised_edge_time < to_timestamp($1::double precision / 1000) - interval '24 hours' AND ${visible}`,
    staleParams,
  );
  return { chattering: chattering[0]?.n ?? 0, stale: stale[0]?.n ?? 0 };
}

async function falseAlarms(db: Queryable, fromMs: number, toMs: number, scope?: Scope): Promise<AlarmKpis['falseAlarms']> {
  const params: SqlParam[] = [fromMs, toMs];
  const where = window(params, scope);
  // A false alarm: staff marked it so, or a verified type's pre-alarm cleared unconfirmed.
  const rows = await db.query<{ gateway_id: string; device_id: string; day: string; n: number }>(
    `SELECT gateway_id, device_id, to_char(date_trunc('day', raised_edge_time AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS n
     FROM incidents WHERE ${where} AND kind IN ('device', 'correlated') AND (status = 'false_alarm' OR verification = 'unconfirmed')
     GROUP BY gateway_id, device_id, day ORDER BY n DESC, gateway_id, device_id, day`,
    params,
  );
  return rows.map((r) => ({ gatewayId: r.gateway_id, deviceId: r.device_id, day: r.day, count: r.n, review: r.n > FALSE_ALARMS_REVIEW_PER_DAY }));
}

export async function alarmKpis(db: Queryable, fromMs: number, toMs: number, scope?: Scope): Promise<AlarmKpis> {
  return {
    fromMs,
    toMs,
    jurisdictions: await jurisdictions(db, fromMs, toMs, scope),
    topSources: await topSources(db, fromMs, toMs, scope),
    ...(await counts(db, fromMs, toMs, scope)),
    falseAlarms: await falseAlarms(db, fromMs, toMs, scope),
  };
}

const csvCell = (value: string | number | boolean): string => (/[",\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));

/** One flat CSV (metric, subject, day, value) of every KPI, for a spreadsheet. */
export function kpisCsv(kpis: AlarmKpis): string {
  const rows: (string | number | boolean)[][] = [['metric', 'subject', 'day', 'value']];
  for (const j of kpis.jurisdictions) {
    rows.push(['items', j.community, '', j.items], ['per_10_minutes', j.community, '', j.perTenMinutes], ['worst_10_minutes', j.community, '', j.worstTenMinutes], ['flood_percent', j.community, '', j.floodPercent]);
  }
  for (const s of kpis.topSources) rows.push(['top_source_raises', `${s.gatewayId}/${s.deviceId}/${s.alarmType}`, '', s.raises]);
  rows.push(['chattering', '', '', kpis.chattering], ['stale', '', '', kpis.stale]);
  for (const f of kpis.falseAlarms) rows.push([f.review ? 'false_alarms_review' : 'false_alarms', `${f.gatewayId}/${f.deviceId}`, f.day, f.count]);
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}
