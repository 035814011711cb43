// Incident as the API and console see it, and the SQL that reads it. Timestamps travel as epoch
// milliseconds, like every time on the wire contract.
import type { Queryable, SqlParam } from '../store/store.ts';
import { laneOf, typesOfLane, type AlarmLane } from './hazards.ts';
import type { CodeParams } from './reasons.ts';

/**
 * Lifecycle: raised → dispatched → acknowledged → on_site → resolved → closed, plus false_alarm and
 * test (set by staff) and cleared (the device's clear closed it, for the types configured to).
 */
export const INCIDENT_STATUSES = ['raised', 'dispatched', 'acknowledged', 'on_site', 'resolved', 'closed', 'false_alarm', 'test', 'cleared'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** States after which a new raise from the same source opens a new incident. */
export const FINAL_STATUSES: readonly IncidentStatus[] = ['resolved', 'closed', 'false_alarm', 'test', 'cleared'];

export type IncidentKind = 'device' | 'correlated' | 'flood' | 'gateway';

/** A device (source) joined into an incident, with the address it reported from. */
export interface IncidentMember {
  gatewayId: string;
  deviceId: string;
  alarmType: string;
  addressId: string | null;
}

/**
 * ISA-18.2 keeps two dimensions apart: the lifecycle `status` (what staff did) and the alarm state
 * (what the devices say). `returned` = every source is back to normal; with `open` and a status
 * before acknowledged that is "returned, unacknowledged" (docs/INCIDENT-STATES.md).
 */
export type AlarmState = 'active' | 'returned';

export interface Incident {
  id: number;
  kind: IncidentKind;
  gatewayId: string;
  site: string;
  deviceId: string;
  alarmType: string;
  /** Hazard family of alarmType (firmware-profiles/alarm-types.yaml); correlation stays within it. */
  hazard: string | null;
  level: number;
  status: IncidentStatus;
  alarmState: AlarmState;
  open: boolean;
  /** English, for logs and older callers; rendered from reasonCode and reasonParams (incidents/reasons.ts). */
  reason: string;
  /** What staff read: the code's label (console/labels/codes.json `reason.<code>`) filled with the params. */
  reasonCode: string;
  reasonParams: CodeParams;
  addressId: string | null;
  /** The address book's text and place name for addressId (readable places); null without an address. */
  addressText: string | null;
  placeName: string | null;
  /** Every device and address that joined the incident, first one first. */
  members: IncidentMember[];
  building: string | null;
  grid: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  /** Where on the escalation ladder the incident sits now, and the unit responsible. */
  tier: string | null;
  unitId: string | null;
  /** The responsible unit's display name (units.name). */
  unitName: string | null;
  escalations: number;
  /** Devices joined by correlation (≥ 2 in one building within 2 minutes). */
  deviceCount: number;
  /** False for chattering sources and members of a flood group: recorded, not dispatched. */
  dispatchable: boolean;
  chattering: boolean;
  /** The flood-group notice (or chattering incident) this incident was folded into. */
  groupId: number | null;
  /** Emergency board or the installer's maintenance queue (alarm-types.yaml family lane). */
  lane: AlarmLane;
  /** Incidents folded into this one (a flood notice's members): the drill-down is `?groupId=<id>`. */
  memberCount: number;
  /** Smoke verification: 'pre_alarm' (预警, not dispatched yet), 'confirmed', 'unconfirmed' (cleared before verification); null = dispatched at once. */
  verification: 'pre_alarm' | 'confirmed' | 'unconfirmed' | null;
  /** Shelved (搁置) until this ISO-8601 time: off the board, deadlines paused; null = not shelved. */
  shelvedUntil: string | null;
  /** Why it was shelved ('' when not shelved). */
  shelvedReason: string;
  occurrences: number;
  firstEventId: string;
  raisedEdgeTime: number;
  raisedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  onSiteAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  updatedAt: number;
}

type Time = Date | string;

export interface IncidentRow {
  id: string | number | bigint;
  kind: IncidentKind;
  gateway_id: string;
  site: string;
  device_id: string;
  alarm_type: string;
  hazard: string | null;
  level: number;
  status: IncidentStatus;
  open: boolean;
  reason: string;
  reason_code?: string;
  reason_params?: CodeParams | string;
  address_id: string | null;
  members: IncidentMember[] | string;
  building: string | null;
  grid: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  tier: string | null;
  unit_id: string | null;
  escalations: number;
  device_count: number;
  dispatchable: boolean;
  chattering: boolean;
  group_id: string | number | null;
  occurrences: number;
  first_event_id: string;
  raised_edge_time: Time;
  raised_at: Time;
  cleared_at: Time | null;
  acknowledged_at: Time | null;
  on_site_at: Time | null;
  resolved_at: Time | null;
  closed_at: Time | null;
  updated_at: Time;
  address_text: string | null;
  place_name: string | null;
  unit_name: string | null;
  member_count?: number | string;
  verification?: 'pre_alarm' | 'confirmed' | 'unconfirmed' | null;
  shelved_until?: Time | null;
  shelved_reason?: string;
}

export const INCIDENT_COLUMNS = `id, kind, gateway_id, site, device_id, alarm_type, hazard, level, status, open, reason, reason_code, reason_params, address_id, members,
  building, grid, community, street, district, tier, unit_id, escalations, device_count, dispatchable, chattering, group_id,
  occurrences, first_event_id, raised_edge_time, raised_at, cleared_at, acknowledged_at, on_site_at, resolved_at, closed_at,
  updated_at, verification, shelved_until, shelved_reason,
  (SELECT a.address_text FROM addresses a WHERE a.address_id = incidents.address_id) AS address_text,
  (SELECT a.place_name FROM addresses a WHERE a.address_id = incidents.address_id) AS place_name,
  (SELECT u.name FROM units u WHERE u.id = incidents.unit_id) AS unit_name,
  (SELECT count(*) FROM incidents g WHERE g.group_id = incidents.id)::int AS member_count`;

function ms(value: Time): number {
  return value instanceof Date ? value.getTime() : new Date(value).getTime();
}

function msOrNull(value: Time | null): number | null {
  return value === null ? null : ms(value);
}

/** Rows from before migration 012, or INSERTs that set no code, read as the plain text they hold. */
function codedReason(row: IncidentRow): { reasonCode: string; reasonParams: CodeParams } {
  const params = typeof row.reason_params === 'string' ? (JSON.parse(row.reason_params) as CodeParams) : (row.reason_params ?? {});
  const code = row.reason_code ?? 'text';
  return { reasonCode: code, reasonParams: code === 'text' && params.text === undefined ? { text: row.reason } : params };
}

export function toIncident(row: IncidentRow): Incident {
  return {
    id: Number(row.id),
    kind: row.kind,
    gatewayId: row.gateway_id,
    site: row.site,
    deviceId: row.device_id,
    alarmType: row.alarm_type,
    hazard: row.hazard,
    level: Number(row.level),
    status: row.status,
    alarmState: row.cleared_at === null ? 'active' : 'returned',
    open: row.open,
    reason: row.reason,
    ...codedReason(row),
    addressId: row.address_id,
    addressText: row.address_text ?? null,
    placeName: row.place_name ?? null,
    members: typeof row.members === 'string' ? (JSON.parse(row.members) as IncidentMember[]) : row.members,
    building: row.building,
    grid: row.grid,
    community: row.community,
    street: row.street,
    district: row.district,
    tier: row.tier,
    unitId: row.unit_id,
    unitName: row.unit_name ?? null,
    escalations: Number(row.escalations),
    deviceCount: Number(row.device_count),
    dispatchable: row.dispatchable,
    chattering: row.chattering,
    groupId: row.group_id === null ? null : Number(row.group_id),
    lane: laneOf(row.alarm_type),
    memberCount: Number(row.member_count ?? 0),
    verification: row.verification ?? null,
    shelvedUntil: row.shelved_until == null ? null : new Date(ms(row.shelved_until)).toISOString(),
    shelvedReason: row.shelved_reason ?? '',
    occurrences: Number(row.occurrences),
    firstEventId: row.first_event_id,
    raisedEdgeTime: ms(row.raised_edge_time),
    raisedAt: ms(row.raised_at),
    clearedAt: msOrNull(row.cleared_at),
    acknowledgedAt: msOrNull(row.acknowledged_at),
    onSiteAt: msOrNull(row.on_site_at),
    resolvedAt: msOrNull(row.resolved_at),
    closedAt: msOrNull(row.closed_at),
    updatedAt: ms(row.updated_at),
  };
}

export interface IncidentQuery {
  status?: IncidentStatus;
  unitId?: string;
  /** Only this lane's incidents (maintenance = the installer's queue). */
  lane?: AlarmLane;
  /** The board: items not folded into a flood notice or a chattering incident, and not shelved. */
  board?: boolean;
  /** Drill-down: the incidents folded into this one. */
  groupId?: number;
  limit: number;
}

/**
 * Newest first; id breaks ties between incidents raised in the same instant. `scope` adds a
 * condition (pushing its own parameters), e.g. a user's jurisdictions.
 */
export async function listIncidents(db: Queryable, query: IncidentQuery, scope?: (params: SqlParam[]) => string): Promise<Incident[]> {
  const params: SqlParam[] = [];
  const where: string[] = scope ? [scope(params)] : [];
  if (query.status) {
    params.push(query.status);
    where.push(`status = $${params.length}`);
  }
  if (query.unitId) {
    params.push(query.unitId);
    where.push(`unit_id = $${params.length}`);
  }
  if (query.lane) {
    params.push(`{${typesOfLane('maintenance').join(',')}}`);
    where.push(`${query.lane === 'maintenance' ? '' : 'NOT '}alarm_type = ANY($${params.length}::text[])`);
  }
  if (query.board) where.push('group_id IS NULL AND shelved_until IS NULL');
  if (query.groupId !== undefined) {
    params.push(query.groupId);
    where.push(`group_id = $${params.length}`);
  }
  params.push(query.limit);
  const rows = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY raised_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toIncident);
}

export async function getIncident(db: Queryable, id: number, lock = false): Promise<Incident | null> {
  const rows = await db.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toIncident(rows[0]) : null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  /** The staff member's display name when the actor is a user ('' otherwise): the audit trail names people, not logins. */
  actorName: string;
  source: string;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string;
  /** System notes: the code (console/labels/codes.json `audit.<code>`) and its params; null for a staff member's own words. */
  noteCode: string | null;
  noteParams: CodeParams;
  deadlineId: number | null;
}

export interface AuditRow {
  id: string | number;
  at: Time;
  actor: string;
  source: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  note: string;
  note_code: string | null;
  note_params: CodeParams | string | null;
  deadline_id: string | number | null;
  actor_name?: string | null;
}

/** The columns toAuditEntry reads (prefix with an alias when joining). */
export const AUDIT_COLUMNS = 'id, at, actor, source, action, from_status, to_status, note, note_code, note_params, deadline_id';

/** With an audit table aliased `a`: the actor's display name, when the actor is a user. */
export const AUDIT_USERS_JOIN = 'LEFT JOIN users u ON u.username = a.actor';
export const AUDIT_ACTOR_NAME = "COALESCE(u.display_name, '') AS actor_name";

export function toAuditEntry(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: ms(r.at),
    actor: r.actor,
    actorName: r.actor_name ?? '',
    source: r.source,
    action: r.action,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    note: r.note,
    noteCode: r.note_code,
    noteParams: typeof r.note_params === 'string' ? (JSON.parse(r.note_params) as CodeParams) : (r.note_params ?? {}),
    deadlineId: r.deadline_id === null ? null : Number(r.deadline_id),
  };
}

export async function auditTrail(db: Queryable, incidentId: number): Promise<AuditEntry[]> {
  const columns = AUDIT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ');
  const rows = await db.query<AuditRow>(
    `SELECT ${columns}, ${AUDIT_ACTOR_NAME} FROM incident_audit a ${AUDIT_USERS_JOIN} WHERE a.incident_id = $1 ORDER BY a.id`,
    [incidentId],
  );
  return rows.map(toAuditEntry);
}

export interface AuditInput {
  actor: string;
  source: string;
  action: string;
  from?: string | null;
  to?: string | null;
  note?: string;
  /** Set by spreading noteOf(…) (incidents/reasons.ts) for system notes; staff notes have none. */
  noteCode?: string | null;
  noteParams?: CodeParams;
  deadlineId?: number | null;
}

export async function audit(tx: Queryable, incidentId: number, entry: AuditInput): Promise<void> {
  await tx.query(
    `INSERT INTO incident_audit (incident_id, actor, source, action, from_status, to_status, note, deadline_id, note_code, note_params)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb)`,
    [incidentId, entry.actor, entry.source, entry.action, entry.from ?? null, entry.to ?? null, entry.note ?? '', entry.deadlineId ?? null, entry.noteCode ?? null, JSON.stringify(entry.noteParams ?? {})],
  );
}
