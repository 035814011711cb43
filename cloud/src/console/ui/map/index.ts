// The console's map (issue #13): incidents and devices of the user's jurisdictions on a base map
// (Leaflet, tiles from the cloud's map.tiles), clustered and coloured by level; a click opens the
// incident. Without a tile server, with tiles failing or offline: the building-dot view (SVG from
// the address book's coordinates), labelled 无底图 / No base map. Plain DOM: the console (Preact)
// mounts it into an element and feeds it GET /api/v1/map.
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import './map.css';
import { dotView } from './dots.ts';
import { drawn, type FeatureView } from './feature.ts';
import type { Lang } from './labels.ts';
import { tileView } from './tiles.ts';
import type { MapData, MapTileSource } from '../../map-data.ts';

export type { MapData, MapFeature, MapTileSource } from '../../map-data.ts';
export { LEVEL_COLOURS } from './colours.ts';

export interface MapOptions {
  onOpen(incidentId: number): void;
  lang: 'zh-CN' | 'en';
}

export interface MountedMap {
  update(data: MapData): void;
  destroy(): void;
}

type Mode = { view: 'dots' } | { view: 'tiles'; tiles: MapTileSource };

const sameMode = (a: Mode | null, b: Mode): boolean => a !== null && a.view === b.view && (a.view === 'dots' || (b.view === 'tiles' && a.tiles.url === b.tiles.url && a.tiles.maxZoom === b.tiles.maxZoom));

export function mountMap(container: HTMLElement, opts: MapOptions): MountedMap {
  const root = document.createElement('div');
  root.className = 'gw-map';
  root.setAttribute('data-testid', 'map');
  container.append(root);
  const lang: Lang = opts.lang;
  let data: MapData = { tiles: null, features: [] };
  let mode: Mode | null = null;
  let view: FeatureView | null = null;
  /** The tile URL that failed; retried when the browser comes back online or the URL changes. */
  let failedUrl: string | null = null;

  const wanted = (): Mode => (data.tiles !== null && navigator.onLine && failedUrl !== data.tiles.url ? { view: 'tiles', tiles: data.tiles } : { view: 'dots' });
  const show = (): void => {
    const next = wanted();
    if (!sameMode(mode, next)) {
      view?.destroy();
      view = next.view === 'tiles' ? tileView(root, next.tiles, lang, { onOpen: opts.onOpen, onFail: () => fail(next.tiles.url) }) : dotView(root, lang, { onOpen: opts.onOpen });
      mode = next;
      root.setAttribute('data-view', next.view);
    }
    view?.update(drawn(data.features));
  };
  // Deferred: a tile error can arrive inside Leaflet's own call stack, which must finish before the map is removed.
  const fail = (url: string): void => {
    failedUrl = url;
    queueMicrotask(show);
  };
  const online = (): void => {
    failedUrl = null;
    show();
  };
  window.addEventListener('online', online);
  window.addEventListener('offline', show);
  show();
  return {
    update(next) {
      data = next;
      show();
    },
    destroy() {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', show);
      view?.destroy();
      view = null;
      root.remove();
    },
  };
}
