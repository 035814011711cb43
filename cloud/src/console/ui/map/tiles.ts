// The base-map view: Leaflet with the configured tile layer, markers clustered by
// Leaflet.markercluster, coloured by level. Markers are keyed by feature and patched in place, so
// a live update never replaces the marker under the pointer. Reports a failure (no tile loaded:
// every request failed, or none answered within TILE_TIMEOUT_MS) so mountMap can fall back to dots.
import * as L from 'leaflet';
import 'leaflet.markercluster';
import { colourOf, urgency } from './colours.ts';
import type { Lang } from './labels.ts';
import { keyOf, markFeature, titleOf, type FeatureView, type Handlers } from './feature.ts';
import type { MapFeature, MapTileSource } from '../../map-data.ts';

/** A tile server that has answered nothing by then counts as unreachable (offline, blocked, down). */
export const TILE_TIMEOUT_MS = 8000;
/** Where the map starts before it has anything to fit (Shenzhen, the demo district's city). */
const START: L.LatLngTuple = [22.55, 114.1];
const MARKER_PX = { incident: 18, device: 12 } as const;

// The plugin extends the global L that Leaflet's UMD build sets (window.L), not the bundler's copy
// of the module's namespace.
const GLOBAL_L = (globalThis as unknown as { L: typeof L }).L;

/** Each marker's level, for the colour of the cluster it is in (the most urgent member's). */
const LEVEL_OF = new WeakMap<L.Layer, number | null>();

interface Entry {
  marker: L.Marker;
  el: HTMLElement;
  feature: MapFeature;
}

function icon(el: HTMLElement, kind: MapFeature['kind']): L.DivIcon {
  const px = MARKER_PX[kind];
  return L.divIcon({ html: el, className: 'gw-map-icon', iconSize: [px, px], iconAnchor: [px / 2, px / 2] });
}

function patchMarker(entry: Entry, f: MapFeature, lang: Lang): void {
  const before = entry.feature;
  entry.feature = f;
  entry.el.className = `gw-map-marker gw-map-marker-${f.kind}${f.incidentId === null ? '' : ' gw-map-opens'}`;
  entry.el.style.backgroundColor = colourOf(f.level);
  entry.el.title = titleOf(f, lang);
  markFeature(entry.el, f);
  if (before.lat !== f.lat || before.lon !== f.lon) entry.marker.setLatLng([f.lat, f.lon]);
}

function clusterIcon(cluster: L.MarkerCluster): L.DivIcon {
  const levels = cluster.getAllChildMarkers().map((m) => LEVEL_OF.get(m) ?? null);
  const top = levels.reduce<number | null>((a, b) => (urgency(b) < urgency(a) ? b : a), null);
  const el = document.createElement('span');
  el.className = 'gw-map-cluster';
  el.style.backgroundColor = colourOf(top);
  el.textContent = String(cluster.getChildCount());
  el.setAttribute('data-level', top === null ? '' : String(top));
  return L.divIcon({ html: el, className: 'gw-map-icon', iconSize: [32, 32], iconAnchor: [16, 16] });
}

/** Watches the layer; the timeout runs from `arm()`, once the map has a size (a hidden map asks for no tiles). */
function watchTiles(layer: L.TileLayer, onFail: () => void): { arm(): void; stop(): void } {
  let loaded = 0;
  let failed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fail = (): void => {
    if (failed || loaded > 0) return;
    failed = true;
    onFail();
  };
  layer.on('tileload', () => void loaded++);
  layer.on('tileerror', fail);
  return {
    arm: () => void (timer ??= setTimeout(fail, TILE_TIMEOUT_MS)),
    stop: () => clearTimeout(timer),
  };
}

function createMap(el: HTMLElement, tiles: MapTileSource): { map: L.Map; layer: L.TileLayer } {
  const map = L.map(el, { center: START, zoom: 12, maxZoom: tiles.maxZoom, zoomControl: true });
  // Attribution is the operator's configuration (map.tiles), shown as Leaflet renders it.
  const layer = L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.maxZoom }).addTo(map);
  return { map, layer };
}

export function tileView(root: HTMLElement, tiles: MapTileSource, lang: Lang, handlers: Handlers & { onFail(): void }): FeatureView {
  const el = document.createElement('div');
  el.className = 'gw-map-leaflet';
  root.append(el);
  const { map, layer } = createMap(el, tiles);
  const watch = watchTiles(layer, handlers.onFail);
  const group = GLOBAL_L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false, iconCreateFunction: clusterIcon }).addTo(map);
  const entries = new Map<string, Entry>();
  let fitted = false;
  const resized = new ResizeObserver(() => {
    if (el.clientWidth === 0 || el.clientHeight === 0) return;
    watch.arm();
    map.invalidateSize();
    if (!fitted) fitTo([...entries.values()].map((e) => e.feature));
  });
  resized.observe(el);

  function fitTo(features: readonly MapFeature[]): void {
    if (features.length === 0 || el.clientWidth === 0 || el.clientHeight === 0) return;
    fitted = true;
    map.fitBounds(L.latLngBounds(features.map((f) => [f.lat, f.lon] as L.LatLngTuple)), { padding: [32, 32], maxZoom: Math.min(17, tiles.maxZoom) });
  }

  function add(f: MapFeature): Entry {
    const markerEl = document.createElement('span');
    const marker = L.marker([f.lat, f.lon], { icon: icon(markerEl, f.kind), keyboard: true, riseOnHover: true });
    const entry: Entry = { marker, el: markerEl, feature: f };
    marker.on('click', () => {
      if (entry.feature.incidentId !== null) handlers.onOpen(entry.feature.incidentId);
    });
    return entry;
  }

  return {
    update(features) {
      const keep = new Set(features.map(keyOf));
      const gone = [...entries].filter(([key]) => !keep.has(key));
      group.removeLayers(gone.map(([, e]) => e.marker));
      for (const [key] of gone) entries.delete(key);
      const added: L.Marker[] = [];
      const changed: L.Marker[] = [];
      for (const f of features) {
        let entry = entries.get(keyOf(f));
        if (!entry) {
          entry = add(f);
          entries.set(keyOf(f), entry);
          added.push(entry.marker);
        } else if (entry.feature.level !== f.level) changed.push(entry.marker);
        LEVEL_OF.set(entry.marker, f.level);
        patchMarker(entry, f, lang);
      }
      group.addLayers(added);
      if (changed.length > 0) group.refreshClusters(changed);
      if (!fitted) fitTo(features);
    },
    destroy() {
      watch.stop();
      resized.disconnect();
      map.remove();
      el.remove();
    },
  };
}
