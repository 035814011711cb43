// The 地图 tab: mounts the map module (ui/map/, map helper; CONTRACTS.md) and feeds it
// GET /api/v1/map, again when the board changes (at most every 2 s: a storm must not hammer the API).
import { useEffect, useRef } from 'preact/hooks';
import { api } from './api.ts';
import { mountMap, type MapData } from './map/index.ts';
import type { ConsoleStore } from './store.ts';
import type { Lang } from './types.ts';

const REFRESH_MS = 2000;

export function MapPage({ store, lang, open }: { store: ConsoleStore; lang: Lang; open: (id: number) => void }) {
  const container = useRef<HTMLDivElement>(null);
  const handle = useRef<ReturnType<typeof mountMap> | null>(null);
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const refresh = (): void => {
    last.current = Date.now();
    api<MapData>('GET', '/api/v1/map').then(
      (data) => handle.current?.update(data),
      () => undefined,
    );
  };
  useEffect(() => {
    if (!container.current) return;
    handle.current = mountMap(container.current, { onOpen: open, lang });
    refresh();
    return () => {
      window.clearTimeout(timer.current);
      handle.current?.destroy();
      handle.current = null;
    };
  }, [lang]);
  useEffect(() => {
    if (!handle.current || timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      refresh();
    }, Math.max(0, REFRESH_MS - (Date.now() - last.current)));
  }, [store.version]);
  return <section id="map-tab" ref={container} class="map-tab" />;
}
