// The console map: open incidents and devices of the caller's jurisdictions with the address
// book's coordinates, and the tile layer the cloud is configured with (map.tiles, null = none:
// the console draws its building-dot view). Scoped exactly like GET /api/v1/incidents.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { MapTiles } from '../../config.ts';
import { mapFeatures, MAP_MAX_DEVICES, MAP_MAX_INCIDENTS, type MapData } from '../../console/map.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { scopeOf } from '../principal.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const MapTilesSchema = Type.Object(
  {
    url: Type.String({ description: 'Leaflet URL template with {z}, {x}, {y} (天地图 / 高德 templates: docs/DESIGN.md "Map")' }),
    attribution: Type.String(),
    maxZoom: Type.Integer({ minimum: 1, maximum: 22 }),
  },
  { $id: 'MapTiles' },
);

const MapFeatureSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('incident'), Type.Literal('device')]),
    id: Type.String({ description: 'Incident id as text, or <gatewayId>/<deviceId>' }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    level: Nullable(Type.Integer({ minimum: 1, maximum: 5, description: 'A device: the level of its most urgent open incident, null when it has none' })),
    status: Nullable(Type.String()),
    label: Type.String({ description: 'Place name · text address (the address id when the address book has no text)' }),
    incidentId: Nullable(Type.Integer({ description: 'What a click opens; null for a device without an open incident' })),
  },
  { $id: 'MapFeature' },
);

export const MapDataSchema = Type.Object({ tiles: Nullable(MapTilesSchema), features: Type.Array(MapFeatureSchema) }, { $id: 'MapData' });

// The schema, the read model's type and the config's type stay one shape: a field added to one
// without the others fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const MAP_SCHEMA_MATCHES: [Same<Static<typeof MapDataSchema>, MapData>, Same<MapTiles, NonNullable<MapData['tiles']>>] = [true, true];

const map = defineRoute({
  method: 'get',
  path: '/api/v1/map',
  tag: 'console',
  summary: `Open incidents (most urgent first, ≤ ${MAP_MAX_INCIDENTS}) and devices (≤ ${MAP_MAX_DEVICES}) of the caller’s jurisdictions with the address book’s coordinates, and the configured tile layer`,
  access: 'reader',
  ok: { status: 200, description: 'Map data; features without coordinates are left out', schema: MapDataSchema },
  async handler({ principal, deps }) {
    return { json: { tiles: deps.config.mapTiles, features: await mapFeatures(deps.store, scopeOf(principal).user) } };
  },
});

export const mapRoutes: ApiRoute[] = [map];
