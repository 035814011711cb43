// Alarm KPIs (ISA-18.2 monitoring, incidents/kpis.ts) for the caller's jurisdictions, as JSON or
// CSV for a spreadsheet. The period defaults to the last 24 hours.
import { Type, type Static } from '@sinclair/typebox';
import { scopeFilter } from '../../auth/scope.ts';
import { alarmKpis, kpisCsv, type AlarmKpis } from '../../incidents/kpis.ts';
import { defineRoute, type ApiDeps, type ApiRoute } from '../deps.ts';
import { badRequest } from '../errors.ts';
import { scopeOf, type Principal } from '../principal.ts';

const DAY_MS = 86_400_000;
const Ms = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });

const AlarmKpisSchema = Type.Object(
  {
    fromMs: Ms,
    toMs: Ms,
    jurisdictions: Type.Array(
      Type.Object({
        community: Type.String(),
        items: Type.Integer({ description: 'Board items raised in the period (folded members not counted)' }),
        perTenMinutes: Type.Number({ description: 'Average board items per 10 minutes (ISA-18.2: ~1 manageable, > 10 a flood)' }),
        worstTenMinutes: Type.Integer({ description: 'Board items in the busiest 10-minute bucket' }),
        floodPercent: Type.Number({ description: 'Share of the period covered by flood notices, %' }),
      }),
    ),
    topSources: Type.Array(Type.Object({ gatewayId: Type.String(), deviceId: Type.String(), alarmType: Type.String(), raises: Type.Integer() }), { description: 'The 10 most frequent sources' }),
    chattering: Type.Integer({ description: 'Incidents flagged chattering in the period' }),
    stale: Type.Integer({ description: 'Incidents still open more than 24 h after they were raised' }),
    falseAlarms: Type.Array(
      Type.Object({ gatewayId: Type.String(), deviceId: Type.String(), day: Type.String(), count: Type.Integer(), review: Type.Boolean({ description: 'GB 50440: more than 5 false alarms that day' }) }),
    ),
  },
  { additionalProperties: false },
);

const Period = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Start of the period, epoch ms (edge time); default: to − 24 h' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'End of the period, epoch ms; default: now' })),
});

async function compute(deps: ApiDeps, principal: Principal, query: Static<typeof Period>): Promise<AlarmKpis> {
  const toMs = query.to ?? Date.now();
  const fromMs = query.from ?? toMs - DAY_MS;
  if (fromMs >= toMs) throw badRequest('from: must be before to');
  const user = scopeOf(principal).user;
  return alarmKpis(deps.store, fromMs, toMs, user ? (params) => scopeFilter(user, params) : undefined);
}

const kpis = defineRoute({
  method: 'get',
  path: '/api/v1/alarm-kpis',
  tag: 'incidents',
  summary: 'Alarm KPIs (ISA-18.2): load per 10 minutes, flood time, top sources, chattering, stale, false alarms per device per day',
  access: 'reader',
  query: Period,
  ok: { status: 200, description: 'The KPIs', schema: AlarmKpisSchema },
  async handler({ query, principal, deps }) {
    return { json: await compute(deps, principal, query) };
  },
});

const kpisAsCsv = defineRoute({
  method: 'get',
  path: '/api/v1/alarm-kpis/csv',
  tag: 'incidents',
  summary: 'The alarm KPIs as CSV, one row per figure (metric, subject, day, value)',
  access: 'reader',
  query: Period,
  ok: { status: 200, description: 'CSV', contentType: 'text/csv' },
  async handler({ query, principal, deps }) {
    return { text: kpisCsv(await compute(deps, principal, query)), type: 'text/csv; charset=utf-8' };
  },
});

export const alarmKpiRoutes: ApiRoute[] = [kpis, kpisAsCsv];
