// The JSON of GET /api/v1/map: the one declaration the server's read model, the route's schema
// (checked equal at compile time in api/routes/map.ts) and the console's map module share. Plain
// types without imports, so the browser code can import it without pulling server modules in.

/** A tile layer: a Leaflet URL template ({z}/{x}/{y}; {s} is not used), its attribution and its deepest zoom. */
export interface MapTileSource {
  url: string;
  attribution: string;
  maxZoom: number;
}

export interface MapFeature {
  kind: 'incident' | 'device';
  /** Incident id as text, or `<gatewayId>/<deviceId>`. */
  id: string;
  /** Coordinates from the address book (addresses.lat/lon), drawn as stored. */
  lat: number;
  lon: number;
  /** The incident's level; for a device, its most urgent open incident's level, else null. */
  level: number | null;
  status: string | null;
  /** Place name and text address (address id when the address book has no text). */
  label: string;
  /** What a click opens: the incident, or a device's most urgent open incident; null = nothing. */
  incidentId: number | null;
}

export interface MapData {
  /** null: no tile server configured (the console draws the building-dot view). */
  tiles: MapTileSource | null;
  features: MapFeature[];
}
