// The console map's read model: open incidents and devices of a user's jurisdictions, placed by
// the address book's coordinates (addresses.lat/lon, migration 002). Scoped like the board
// (auth/scope.ts): incidents by their own grid/community/street/district, devices by their
// address's. Rows without coordinates are left out: there is nowhere to draw them.
import { scopeFilter } from '../auth/scope.ts';
import type { User } from '../auth/users.ts';
import { FINAL_STATUSES } from '../incidents/incident.ts';
import type { Queryable, SqlParam } from '../store/store.ts';
import type { MapFeature } from './map-data.ts';

export type { MapData, MapFeature, MapTileSource } from './map-data.ts';

/** Bounds of one answer; a district's devices fit, and clustering keeps the browser responsive. */
export const MAP_MAX_INCIDENTS = 2000;
export const MAP_MAX_DEVICES = 10_000;

interface PlaceRow {
  lat: number | string;
  lon: number | string;
  address_id: string;
  address_text: string;
  place_name: string;
}

function label(row: PlaceRow): string {
  const parts = [row.place_name, row.address_text].filter((s) => s !== '');
  return parts.length > 0 ? parts.join(' · ') : row.address_id;
}

const scoped = (user: User | null, params: SqlParam[], alias: string): string => (user ? scopeFilter(user, params, alias) : 'true');

async function incidentFeatures(db: Queryable, user: User | null): Promise<MapFeature[]> {
  const params: SqlParam[] = [`{${FINAL_STATUSES.join(',')}}`];
  const scope = scoped(user, params, 'i.');
  params.push(MAP_MAX_INCIDENTS);
  const rows = await db.query<PlaceRow & { id: string | number; level: number; status: string }>(
    `SELECT i.id, i.level, i.status, a.lat, a.lon, a.address_id, a.address_text, a.place_name
     FROM incidents i JOIN addresses a ON a.address_id = i.address_id
     WHERE i.status <> ALL($1::text[]) AND a.lat IS NOT NULL AND a.lon IS NOT NULL AND ${scope}
     ORDER BY i.level, i.raised_at DESC, i.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ kind: 'incident', id: String(r.id), lat: Number(r.lat), lon: Number(r.lon), level: Number(r.level), status: r.status, label: label(r), incidentId: Number(r.id) }));
}

async function deviceFeatures(db: Queryable, user: User | null): Promise<MapFeature[]> {
  const params: SqlParam[] = [`{${FINAL_STATUSES.join(',')}}`];
  const deviceScope = scoped(user, params, 'a.');
  // The device's most urgent open incident that the user may see, for its colour and its click.
  const incidentScope = scoped(user, params, 'i.');
  params.push(MAP_MAX_DEVICES);
  const rows = await db.query<PlaceRow & { gateway_id: string; device_id: string; incident_id: string | number | null; level: number | null; status: string | null }>(
    `SELECT dv.gateway_id, dv.device_id, a.lat, a.lon, a.address_id, a.address_text, a.place_name, o.id AS incident_id, o.level, o.status
     FROM devices dv JOIN addresses a ON a.address_id = dv.address_id
     LEFT JOIN LATERAL (
       SELECT i.id, i.level, i.status FROM incidents i
       WHERE i.gateway_id = dv.gateway_id AND i.device_id = dv.device_id AND i.status <> ALL($1::text[]) AND ${incidentScope}
       ORDER BY i.level, i.raised_at DESC, i.id DESC LIMIT 1
     ) o ON true
     WHERE a.lat IS NOT NULL AND a.lon IS NOT NULL AND ${deviceScope}
     ORDER BY dv.gateway_id, dv.device_id LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    kind: 'device',
    id: `${r.gateway_id}/${r.device_id}`,
    lat: Number(r.lat),
    lon: Number(r.lon),
    level: r.level === null ? null : Number(r.level),
    status: r.status,
    label: `${r.device_id} · ${label(r)}`,
    incidentId: r.incident_id === null ? null : Number(r.incident_id),
  }));
}

/** Open incidents (most urgent first) then devices, in the user's jurisdictions (all for null). */
export async function mapFeatures(db: Queryable, user: User | null): Promise<MapFeature[]> {
  return [...(await incidentFeatures(db, user)), ...(await deviceFeatures(db, user))];
}
