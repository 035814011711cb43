// The statements of the set-based apply (apply-set.ts): each takes the whole group as one JSON
// parameter (json_to_recordset), so a group costs the same few round trips whatever its size.
import { toAddress, type Address, type AddressRow, type Unit } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import type { RuleRow } from './apply-set-route.ts';
import { INCIDENT_COLUMNS, type IncidentRow } from './incident.ts';
import { ADVANCE_ON_CONFLICT } from './source-order.ts';

export interface ProbeInput {
  ord: number;
  event_id: string;
  device_id: string;
  alarm_type: string;
  claimed: string | null;
}

/** What the store holds for one event before the group: its id, its source's last seq, its device's placement. */
export interface Probe {
  known: boolean;
  lastSeq: number | null;
  recorded: string | null;
  claimedAddress: Address | null;
  recordedAddress: Address | null;
}

interface ProbeRow {
  ord: number;
  known: boolean;
  last_seq: number | string | null;
  recorded: string | null;
  claimed_addr: AddressRow | null;
  recorded_addr: AddressRow | null;
}

/** One statement: ids held, source states, device placements and their addresses, the gateway's communities. */
export async function probeGroup(tx: Queryable, gatewayId: string, inputs: readonly ProbeInput[]): Promise<{ probes: Map<number, Probe>; communities: string[] }> {
  const rows = await tx.query<{ communities: string[]; rows: ProbeRow[] }>(
    `WITH c AS (SELECT * FROM json_to_recordset($2::json) AS t(ord int, event_id text, device_id text, alarm_type text, claimed text))
     SELECT (SELECT COALESCE(json_agg(community), '[]'::json) FROM gateway_communities WHERE gateway_id = $1) AS communities,
       (SELECT COALESCE(json_agg(json_build_object(
          'ord', c.ord,
          'known', EXISTS (SELECT 1 FROM events e WHERE e.event_id = c.event_id),
          'last_seq', (SELECT s.last_seq FROM source_state s WHERE s.gateway_id = $1 AND s.device_id = c.device_id AND s.alarm_type = c.alarm_type),
          'recorded', d.address_id,
          'claimed_addr', (SELECT row_to_json(a) FROM addresses a WHERE a.address_id = c.claimed),
          'recorded_addr', (SELECT row_to_json(a) FROM addresses a WHERE a.address_id = d.address_id))), '[]'::json)
        FROM c LEFT JOIN devices d ON d.gateway_id = $1 AND d.device_id = c.device_id) AS rows`,
    [gatewayId, JSON.stringify(inputs)],
  );
  const probes = new Map<number, Probe>();
  for (const r of rows[0]?.rows ?? []) {
    probes.set(r.ord, {
      known: r.known,
      lastSeq: r.last_seq === null ? null : Number(r.last_seq),
      recorded: r.recorded,
      claimedAddress: toAddress(r.claimed_addr),
      recordedAddress: toAddress(r.recorded_addr),
    });
  }
  return { probes, communities: rows[0]?.communities ?? [] };
}

/** The group's advisory locks in one statement (keys sorted by the caller: two groups take them in one order). */
export async function lockKeys(tx: Queryable, keys: readonly string[]): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext(k)) FROM json_array_elements_text($1::json) AS t(k)', [JSON.stringify(keys)]);
}

/** Per candidate, what the per-event raise would read; a candidate is blocked when any of it is there. */
export interface DecisionInput {
  ord: number;
  device_id: string;
  alarm_type: string;
  hazard: string;
  edge: number;
  /** Seconds back within which any event of the source, or a cleared incident of it, may matter (chatter). */
  lookback: number;
  building: string | null;
  community: string | null;
  maint: boolean;
  correlate: boolean;
  corr_window: number;
  fold: boolean;
  flood_window: number;
  flood_count: number;
}

const EDGE = 'to_timestamp(c.edge / 1000)';
const LANE = '(i.alarm_type = ANY($3::text[])) = c.maint';

/**
 * A superset of what would make raise.ts do anything but open a plain incident: an open source of
 * the device (repeat, same-device join), recent events of the source (chatter), its recently
 * cleared incidents (chatter reopen), a correlation target in the building, a flood in the community.
 */
const BLOCKED = `
  EXISTS (SELECT 1 FROM incident_sources s WHERE s.gateway_id = $1 AND s.device_id = c.device_id AND s.open)
  OR EXISTS (SELECT 1 FROM events e WHERE e.gateway_id = $1 AND e.device_id = c.device_id AND e.alarm_type = c.alarm_type AND NOT e.test
    AND e.edge_time > ${EDGE} - make_interval(secs => c.lookback))
  OR EXISTS (SELECT 1 FROM incident_sources s JOIN incidents i ON i.id = s.incident_id
    WHERE s.gateway_id = $1 AND s.device_id = c.device_id AND s.alarm_type = c.alarm_type AND i.status = 'cleared' AND i.group_id IS NULL
      AND i.kind IN ('device', 'correlated') AND EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.edge_time > ${EDGE} - make_interval(secs => c.lookback)))
  OR (c.correlate AND EXISTS (SELECT 1 FROM incidents i WHERE i.open AND i.building = c.building AND i.hazard = c.hazard
    AND i.kind IN ('device', 'correlated') AND i.group_id IS NULL AND i.raised_edge_time > ${EDGE} - make_interval(secs => c.corr_window)))
  OR (c.fold AND (EXISTS (SELECT 1 FROM incidents i WHERE i.kind = 'flood' AND i.open AND i.community = c.community AND ${LANE})
    OR (SELECT count(*) FROM incidents i WHERE i.community = c.community AND i.kind IN ('device', 'correlated') AND i.group_id IS NULL AND ${LANE}
      AND i.raised_edge_time > ${EDGE} - make_interval(secs => c.flood_window)) >= c.flood_count))`;

export interface Decisions {
  blocked: Set<number>;
  rules: RuleRow[];
  units: Unit[];
  /** Every dispatch consumer's units (dispatch/queue.ts enqueueDispatch follows them). */
  consumers: string[][];
}

/** One statement after the locks: the blocked candidates, and the routing rules and units the rest need. */
export async function readDecisions(
  tx: Queryable,
  gatewayId: string,
  inputs: readonly DecisionInput[],
  routing: { maintenanceTypes: readonly string[]; alarmTypes: readonly string[]; areas: readonly { tier: string; area: string }[] },
): Promise<Decisions> {
  const rows = await tx.query<{ blocked: number[]; rules: RuleRow[]; units: Unit[]; consumers: string[][] }>(
    `WITH c AS (SELECT * FROM json_to_recordset($2::json) AS t(ord int, device_id text, alarm_type text, hazard text, edge double precision,
       lookback double precision, building text, community text, maint boolean, correlate boolean, corr_window double precision, fold boolean,
       flood_window double precision, flood_count int))
     SELECT (SELECT COALESCE(json_agg(c.ord), '[]'::json) FROM c WHERE ${BLOCKED}) AS blocked,
       (SELECT COALESCE(json_agg(r ORDER BY r.priority, (r.alarm_type = '*'), r.id), '[]'::json) FROM (
          SELECT id, alarm_type, max_level, area_tier, area, tier, unit_type, priority FROM routing_rules
          WHERE alarm_type = ANY(ARRAY(SELECT json_array_elements_text($4::json))) OR alarm_type = '*') r) AS rules,
       (SELECT COALESCE(json_agg(u ORDER BY u.id), '[]'::json) FROM (
          SELECT id, name, type, tier, area FROM units WHERE (tier, area) IN (SELECT t.tier, t.area FROM json_to_recordset($5::json) AS t(tier text, area text))) u) AS units,
       (SELECT COALESCE(json_agg(to_json(units)), '[]'::json) FROM dispatch_consumers) AS consumers`,
    [gatewayId, JSON.stringify(inputs), `{${routing.maintenanceTypes.join(',')}}`, JSON.stringify(routing.alarmTypes), JSON.stringify(routing.areas)],
  );
  const row = rows[0];
  return { blocked: new Set(row?.blocked ?? []), rules: row?.rules ?? [], units: row?.units ?? [], consumers: row?.consumers ?? [] };
}

/** One fast-path event as the write statement takes it. */
export interface FastRow {
  ord: number;
  event_id: string;
  seq: number;
  device_id: string;
  profile_id: string;
  alarm_type: string;
  level: number;
  reason: string;
  edge: number;
  claimed: string | null;
  readings: unknown;
  hazard: string;
  inc_address_id: string | null;
  members: unknown;
  building: string | null;
  grid: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  reason_code: string;
  reason_params: unknown;
  note: string;
  note_code: string;
  note_params: unknown;
  status: 'raised' | 'dispatched';
  tier: string | null;
  unit_id: string | null;
  route_note: string | null;
  route_note_code: string | null;
  route_note_params: unknown;
  ack_s: number | null;
  /** The address to record for the device (placement: a first claim, or the edge's claim when trusted). */
  place: string | null;
}

const FAST_COLUMNS = `ord int, event_id text, seq bigint, device_id text, profile_id text, alarm_type text, level smallint, reason text, edge double precision,
  claimed text, readings jsonb, hazard text, inc_address_id text, members jsonb, building text, grid text, community text, street text, district text,
  reason_code text, reason_params jsonb, note text, note_code text, note_params jsonb, status text, tier text, unit_id text, route_note text,
  route_note_code text, route_note_params jsonb, ack_s double precision, place text`;

/**
 * One statement for every fast-path event: its incident (already routed: status, tier, unit), the
 * event row linked to it, the source's advance, the incident's source, the device's placement, the
 * audit rows (raise, then dispatch when routed) and the acknowledge deadline. Returns the incidents
 * and how many events were inserted and sources advanced (fewer: another writer got there first).
 */
export async function writeFast(
  tx: Queryable,
  gateway: { gatewayId: string; site: string },
  rows: readonly FastRow[],
  clockMs: number | null,
): Promise<{ incidents: IncidentRow[]; inserted: number; advanced: number }> {
  const result = await tx.query<IncidentRow & { n_ins: number; n_adv: number }>(
    `WITH input AS (SELECT * FROM json_to_recordset($3::json) AS t(${FAST_COLUMNS})),
     inc AS (
       INSERT INTO incidents (gateway_id, site, device_id, alarm_type, hazard, level, status, reason, address_id, members, first_event_id,
         raised_edge_time, building, grid, community, street, district, dispatchable, chattering, group_id, reason_code, reason_params, tier, unit_id)
       SELECT $1, $2, device_id, alarm_type, hazard, level, status, reason, inc_address_id, members, event_id, to_timestamp(edge / 1000),
         building, grid, community, street, district, true, false, NULL, reason_code, reason_params, tier, unit_id
       FROM input ORDER BY ord
       RETURNING ${INCIDENT_COLUMNS}
     ), ins AS (
       INSERT INTO events (event_id, gateway_id, site, seq, device_id, profile_id, alarm_type, action, level, reason, edge_time, test, address_id, readings, incident_id)
       SELECT i.event_id, $1, $2, i.seq, i.device_id, i.profile_id, i.alarm_type, 'raise', i.level, i.reason, to_timestamp(i.edge / 1000), false, i.claimed, i.readings, inc.id
       FROM input i JOIN inc ON inc.first_event_id = i.event_id ORDER BY i.ord
       ON CONFLICT (event_id) DO NOTHING
       RETURNING gateway_id, device_id, alarm_type, seq
     ), adv AS (
       INSERT INTO source_state (gateway_id, device_id, alarm_type, last_seq, active)
       SELECT gateway_id, device_id, alarm_type, seq, true FROM ins
       ${ADVANCE_ON_CONFLICT}
     ), src AS (
       INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) SELECT id, $1, device_id, alarm_type FROM inc
     ), placed AS (
       INSERT INTO devices (gateway_id, device_id, address_id) SELECT $1, device_id, place FROM input WHERE place IS NOT NULL
       ON CONFLICT (gateway_id, device_id) DO UPDATE SET address_id = EXCLUDED.address_id, updated_at = now()
     ), aud AS (
       INSERT INTO incident_audit (incident_id, actor, source, action, from_status, to_status, note, deadline_id, note_code, note_params)
       SELECT inc.id, a.actor, a.source, a.action, a.from_status, a.to_status, a.note, NULL, a.note_code, a.note_params
       FROM input i JOIN inc ON inc.first_event_id = i.event_id
       CROSS JOIN LATERAL (VALUES
         (1, 'gateway:' || $1, 'mqtt', 'raise', NULL::text, 'raised', i.note, i.note_code, i.note_params),
         (2, 'system', 'routing', 'dispatch', 'raised', 'dispatched', i.route_note, i.route_note_code, i.route_note_params)
       ) AS a(k, actor, source, action, from_status, to_status, note, note_code, note_params)
       WHERE a.k = 1 OR i.unit_id IS NOT NULL
       ORDER BY i.ord, a.k
     ), dl AS (
       INSERT INTO deadlines (incident_id, kind, tier, started_at, due_at)
       SELECT inc.id, 'ack', inc.tier, COALESCE(to_timestamp($4::double precision / 1000), now()),
         COALESCE(to_timestamp($4::double precision / 1000), now()) + make_interval(secs => i.ack_s)
       FROM input i JOIN inc ON inc.first_event_id = i.event_id WHERE i.unit_id IS NOT NULL ORDER BY i.ord
     )
     SELECT inc.*, (SELECT count(*) FROM ins)::int AS n_ins, (SELECT count(*) FROM adv)::int AS n_adv FROM inc`,
    [gateway.gatewayId, gateway.site, JSON.stringify(rows), clockMs],
  );
  return { incidents: result, inserted: result[0]?.n_ins ?? 0, advanced: result[0]?.n_adv ?? 0 };
}

/** dispatch/queue.ts enqueueDispatch for many incidents: one message per (consumer following the unit or '*', incident). */
export async function enqueueMany(tx: Queryable, items: readonly { ord: number; incident_id: number; unit_id: string | null; maint: boolean; payload: unknown }[]): Promise<Set<number>> {
  const rows = await tx.query<{ incident_id: string }>(
    `INSERT INTO dispatch_messages (consumer_id, incident_id, kind, unit_id, payload)
     SELECT c.id, m.incident_id, 'dispatch', m.unit_id, m.payload
     FROM json_to_recordset($1::json) AS m(ord int, incident_id bigint, unit_id text, maint boolean, payload jsonb)
     JOIN dispatch_consumers c ON ('*' = ANY(c.units) AND NOT m.maint) OR (m.unit_id IS NOT NULL AND m.unit_id = ANY(c.units))
     ORDER BY m.ord
     RETURNING incident_id`,
    [JSON.stringify(items)],
  );
  return new Set(rows.map((r) => Number(r.incident_id)));
}
