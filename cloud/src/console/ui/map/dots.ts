// The plain building-dot view: no base map, only the address book's coordinates. Used when no
// tile server is configured, tiles fail to load, or the browser is offline. Dots are projected
// with Web Mercator (the projection of the tiles, so the picture matches the map's) and fitted to
// the view's box, north up, the same scale on both axes.
import { colourOf, urgency } from './colours.ts';
import { label, type Lang } from './labels.ts';
import { keyOf, markFeature, titleOf, type FeatureView, type Handlers } from './feature.ts';
import type { MapFeature } from '../../map-data.ts';

const SVG = 'http://www.w3.org/2000/svg';
/** Margin around the fitted dots, in CSS pixels. */
const PADDING = 28;

/** Web Mercator in radians: x = λ, y = ln tan(π/4 + φ/2) (up is north). */
export function mercator(lat: number, lon: number): { x: number; y: number } {
  const phi = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  return { x: (lon * Math.PI) / 180, y: Math.log(Math.tan(Math.PI / 4 + phi / 2)) };
}

interface Fit {
  scale: number;
  x0: number;
  y0: number;
  cx: number;
  cy: number;
}

function fit(features: readonly MapFeature[], width: number, height: number): Fit {
  const points = features.map((f) => mercator(f.lat, f.lon));
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanX = maxX - minX;
  const spanY = maxY - minY;
  const room = { w: Math.max(1, width - 2 * PADDING), h: Math.max(1, height - 2 * PADDING) };
  // One place (or none): any scale shows it in the middle.
  const scale = spanX === 0 && spanY === 0 ? 1 : Math.min(spanX === 0 ? Infinity : room.w / spanX, spanY === 0 ? Infinity : room.h / spanY);
  return { scale, x0: (minX + maxX) / 2, y0: (minY + maxY) / 2, cx: width / 2, cy: height / 2 };
}

function drawOrder(features: readonly MapFeature[]): MapFeature[] {
  // Devices under incidents, the most urgent last: on top, where a click lands.
  return [...features].sort((a, b) => (a.kind === b.kind ? urgency(b.level) - urgency(a.level) : a.kind === 'device' ? -1 : 1));
}

interface Dot {
  el: SVGCircleElement;
  title: SVGTitleElement;
  feature: MapFeature;
}

/** One circle per feature, created once and patched in place (a live update never replaces the dot under the pointer). */
function createDot(feature: MapFeature, handlers: Handlers): Dot {
  const el = document.createElementNS(SVG, 'circle');
  const title = document.createElementNS(SVG, 'title');
  el.append(title);
  const entry: Dot = { el, title, feature };
  const open = (): void => {
    if (entry.feature.incidentId !== null) handlers.onOpen(entry.feature.incidentId);
  };
  el.addEventListener('click', open);
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') open();
  });
  return entry;
}

function patchDot(dot: Dot, f: MapFeature, at: { x: number; y: number }, lang: Lang): void {
  dot.feature = f;
  const { el } = dot;
  el.setAttribute('cx', at.x.toFixed(2));
  el.setAttribute('cy', at.y.toFixed(2));
  el.setAttribute('r', f.kind === 'incident' ? '9' : '5');
  el.setAttribute('fill', colourOf(f.level));
  el.setAttribute('class', `gw-map-dot gw-map-dot-${f.kind}${f.incidentId === null ? '' : ' gw-map-opens'}`);
  if (f.incidentId === null) {
    el.removeAttribute('tabindex');
    el.removeAttribute('role');
  } else {
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
  }
  dot.title.textContent = titleOf(f, lang);
  markFeature(el, f);
}

function placer(features: readonly MapFeature[], width: number, height: number): (f: MapFeature) => { x: number; y: number } {
  const fitted = fit(features, width, height);
  return (f) => {
    const p = mercator(f.lat, f.lon);
    return { x: fitted.cx + (p.x - fitted.x0) * fitted.scale, y: fitted.cy - (p.y - fitted.y0) * fitted.scale };
  };
}

function shell(root: HTMLElement, lang: Lang): { box: HTMLDivElement; svg: SVGSVGElement } {
  const box = document.createElement('div');
  box.className = 'gw-map-dots';
  const caption = document.createElement('div');
  caption.className = 'gw-map-caption';
  caption.textContent = label(lang, 'map.noBaseMap');
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', label(lang, 'map.noBaseMap'));
  box.append(svg, caption);
  root.append(box);
  return { box, svg };
}

export function dotView(root: HTMLElement, lang: Lang, handlers: Handlers): FeatureView {
  const { box, svg } = shell(root, lang);
  const dots = new Map<string, Dot>();
  let shown: readonly MapFeature[] = [];
  const render = (): void => {
    const width = box.clientWidth || 800;
    const height = box.clientHeight || 500;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    const place = placer(shown, width, height);
    const order = drawOrder(shown);
    const keep = new Set(order.map(keyOf));
    for (const [key, dot] of dots) {
      if (keep.has(key)) continue;
      dot.el.remove();
      dots.delete(key);
    }
    for (const f of order) {
      const dot = dots.get(keyOf(f)) ?? createDot(f, handlers);
      dots.set(keyOf(f), dot);
      patchDot(dot, f, place(f), lang);
    }
    // Reorder only when out of place: moving a node is the one change a pointer could notice.
    const wanted = order.map((f) => dots.get(keyOf(f))!.el);
    if (wanted.some((el, i) => svg.children[i] !== el)) svg.append(...wanted);
  };
  const resized = new ResizeObserver(() => render());
  resized.observe(box);
  return {
    update(features) {
      shown = features;
      render();
    },
    destroy() {
      resized.disconnect();
      box.remove();
    },
  };
}
