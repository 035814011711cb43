// Incident as the API and console see it, and the SQL that reads it. Timestamps travel as epoch
// milliseconds, like every time on the wire contract.
import type { Queryable } from '../store/store.ts';

export const INCIDENT_STATUSES = ['raised', 'cleared'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface Incident {
  id: number;
  gatewayId: string;
  site: string;
  deviceId: string;
  alarmType: string;
  level: number;
  status: string;
  reason: string;
  addressId: string | null;
  occurrences: number;
  firstEventId: string;
  raisedEdgeTime: number;
  raisedAt: number;
  clearedAt: number | null;
  updatedAt: number;
}

export interface IncidentRow {
  id: string | number | bigint;
  gateway_id: string;
  site: string;
  device_id: string;
  alarm_type: string;
  level: number;
  status: string;
  reason: string;
  address_id: string | null;
  occurrences: number;
  first_event_id: string;
  raised_edge_time: Date | string;
  raised_at: Date | string;
  cleared_at: Date | string | null;
  updated_at: Date | string;
}

export const INCIDENT_COLUMNS = `id, gateway_id, site, device_id, alarm_type, level, status, reason, address_id,
  occurrences, first_event_id, raised_edge_time, raised_at, cleared_at, updated_at`;

function ms(value: Date | string): number {
  return value instanceof Date ? value.getTime() : new Date(value).getTime();
}

export function toIncident(row: IncidentRow): Incident {
  return {
    id: Number(row.id),
    gatewayId: row.gateway_id,
    site: row.site,
    deviceId: row.device_id,
    alarmType: row.alarm_type,
    level: Number(row.level),
    status: row.status,
    reason: row.reason,
    addressId: row.address_id,
    occurrences: Number(row.occurrences),
    firstEventId: row.first_event_id,
    raisedEdgeTime: ms(row.raised_edge_time),
    raisedAt: ms(row.raised_at),
    clearedAt: row.cleared_at === null ? null : ms(row.cleared_at),
    updatedAt: ms(row.updated_at),
  };
}

export interface IncidentQuery {
  status?: IncidentStatus;
  limit: number;
}

/** Newest first; id breaks ties between incidents raised in the same instant. */
export async function listIncidents(db: Queryable, query: IncidentQuery): Promise<Incident[]> {
  const params: (string | number)[] = [];
  let where = '';
  if (query.status) {
    params.push(query.status);
    where = `WHERE status = $${params.length}`;
  }
  params.push(query.limit);
  const rows = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where} ORDER BY raised_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toIncident);
}

export async function getIncident(db: Queryable, id: number): Promise<Incident | null> {
  const rows = await db.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
  return rows[0] ? toIncident(rows[0]) : null;
}
