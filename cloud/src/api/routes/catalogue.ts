// The words and the lifecycle the console renders, from their one source (CONVENTIONS.md #16):
// alarm types and hazard families with their zh-CN/en labels from firmware-profiles/alarm-types.yaml,
// the lanes, and the incident lifecycle table of cloud/src/incidents/lifecycle.ts. The console
// copies none of it.
import { Type, type Static } from '@sinclair/typebox';
import { alarmTypes } from '@gridwatch/firmware-profiles';
import { FINAL_STATUSES, INCIDENT_STATUSES } from '../../incidents/incident.ts';
import { lifecycleTable } from '../../incidents/lifecycle.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';

const Labels = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });

const CatalogueSchema = Type.Object(
  {
    alarmTypes: Type.Array(Type.Object({ code: Type.String(), family: Type.String(), level: Type.Integer(), labels: Labels })),
    families: Type.Array(Type.Object({ code: Type.String(), lane: Type.String(), labels: Labels })),
    lanes: Type.Array(Type.Object({ code: Type.String(), labels: Labels })),
    lifecycle: Type.Object({
      statuses: Type.Array(Type.String()),
      finalStatuses: Type.Array(Type.String()),
      actions: Type.Array(
        Type.Object({
          action: Type.String(),
          from: Type.Array(Type.String(), { description: 'States the action may start from' }),
          to: Type.Union([Type.String(), Type.Null()], { description: 'State it leads to; null keeps the state (note, reassign, shelve, unshelve)' }),
        }),
      ),
    }),
  },
  { $id: 'Catalogue' },
);

export type Catalogue = Static<typeof CatalogueSchema>;

/** The two queues an alarm can go to (alarm-types.yaml family lane). */
export const LANE_LABELS: Record<'emergency' | 'maintenance', { 'zh-CN': string; en: string }> = {
  emergency: { 'zh-CN': '应急告警', en: 'Emergency' },
  maintenance: { 'zh-CN': '运维待办', en: 'Maintenance' },
};

export function buildCatalogue(): Catalogue {
  const catalogue = alarmTypes();
  const lifecycleActions = lifecycleTable();
  return {
    alarmTypes: [...catalogue.types.values()].map((t) => ({ code: t.code, family: t.family, level: t.level, labels: t.labels })),
    families: [...catalogue.families.values()].map((f) => ({ code: f.name, lane: f.lane, labels: f.labels })),
    lanes: Object.entries(LANE_LABELS).map(([code, labels]) => ({ code, labels })),
    lifecycle: { statuses: [...INCIDENT_STATUSES], finalStatuses: [...FINAL_STATUSES], actions: lifecycleActions },
  };
}

const catalogueRoute = defineRoute({
  method: 'get',
  path: '/api/v1/catalogue',
  tag: 'console',
  summary: 'Alarm types, hazard families and lanes with zh-CN/en labels, and the incident lifecycle table (the console renders these, copies none)',
  access: 'public',
  ok: { status: 200, description: 'The catalogue', schema: CatalogueSchema },
  async handler() {
    return { json: buildCatalogue(), headers: { 'cache-control': 'no-cache' } };
  },
});

export const catalogueRoutes: ApiRoute[] = [catalogueRoute];
