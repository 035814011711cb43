// What both views share: the marker's data attributes (the console and the tests find markers by
// them), its title, and the view interface mountMap switches between.
import { label, type Lang } from './labels.ts';
import type { MapFeature } from '../../map-data.ts';

export interface Handlers {
  onOpen(incidentId: number): void;
}

export interface FeatureView {
  update(features: readonly MapFeature[]): void;
  destroy(): void;
}

export const keyOf = (f: MapFeature): string => `${f.kind}:${f.id}`;

/** data-incident-id (incidents) or data-device-id (devices), plus where and how urgent it is. */
export function markFeature(el: Element, f: MapFeature): void {
  if (f.kind === 'incident') el.setAttribute('data-incident-id', f.id);
  else el.setAttribute('data-device-id', f.id);
  // A device with an open incident opens that one (data-opens); the incident has its own marker too.
  if (f.incidentId === null) el.removeAttribute('data-opens');
  else el.setAttribute('data-opens', String(f.incidentId));
  el.setAttribute('data-lat', String(f.lat));
  el.setAttribute('data-lon', String(f.lon));
  el.setAttribute('data-level', f.level === null ? '' : String(f.level));
  el.setAttribute('data-status', f.status ?? '');
}

export function titleOf(f: MapFeature, lang: Lang): string {
  const parts = [f.label];
  if (f.level !== null) parts.push(label(lang, 'map.level', { level: f.level }));
  if (f.status !== null) parts.push(label(lang, `status.${f.status}`));
  else if (f.kind === 'device') parts.push(label(lang, 'map.noOpenIncident'));
  return parts.join(' · ');
}

/**
 * A device whose open incident is on the map as an incident marker at the same place is drawn
 * once, as the incident: two markers on one spot would cluster for ever and hide each other.
 */
export function drawn(features: readonly MapFeature[]): MapFeature[] {
  const incidents = new Map(features.filter((f) => f.kind === 'incident').map((f) => [f.incidentId, f]));
  return features.filter((f) => {
    if (f.kind === 'incident' || f.incidentId === null) return true;
    const shown = incidents.get(f.incidentId);
    return !shown || shown.lat !== f.lat || shown.lon !== f.lon;
  });
}
