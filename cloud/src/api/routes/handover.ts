// The shift handover summary (交接班) for the community office: what is open, what is overdue and
// what happened since the shift began, in the caller's jurisdictions (issue #13, work steps).
import { Type, type Static } from '@sinclair/typebox';
import { handover, shiftStart, type Handover } from '../../console/queries.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { scopeOf } from '../principal.ts';
import { AuditEntrySchema, IncidentSchema } from '../schemas.ts';

const HandoverSchema = Type.Object(
  {
    since: Type.String({ format: 'date-time', description: 'Start of the period: the latest shift start (config shiftStarts, shiftTimeZone) unless ?since= was given' }),
    open: Type.Array(IncidentSchema, { description: 'Open incidents on the board (not folded into a group; shelved ones included), newest first' }),
    overdue: Type.Array(IncidentSchema, { description: 'Open incidents that missed a deadline, or whose pending deadline is past due' }),
    happened: Type.Object({
      raised: Type.Integer({ description: 'Alarms raised since (tests and flood notices excluded)' }),
      resolved: Type.Integer({ description: 'Incidents staff resolved since' }),
      falseAlarms: Type.Integer({ description: 'Incidents staff marked false alarm since' }),
      escalations: Type.Integer({ description: 'Missed deadlines escalated since' }),
      byType: Type.Array(Type.Object({ type: Type.String(), count: Type.Integer() }), { description: 'Raised since, by alarm type, most first' }),
    }),
    audit: Type.Array(Type.Composite([AuditEntrySchema, Type.Object({ incidentId: Type.Integer() })]), { description: 'Audit rows since, newest first, at most 200' }),
  },
  { $id: 'Handover' },
);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile when the schema and the read model drift. */
export const HANDOVER_SCHEMA_MATCHES: Equal<Static<typeof HandoverSchema>, Handover> = true;

const summary = defineRoute({
  method: 'get',
  path: '/api/v1/handover',
  tag: 'incidents',
  summary: 'Shift handover: open items, overdue, and what happened since the shift began (caller’s jurisdictions)',
  access: 'reader',
  query: Type.Object({
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the period (ISO-8601); default: the latest shift start, 08:00 or 20:00 Asia/Shanghai unless configured' })),
  }),
  ok: { status: 200, description: 'The handover summary', schema: HandoverSchema },
  async handler({ query, principal, deps }) {
    const since = query.since ? Date.parse(query.since) : shiftStart(Date.now(), { starts: deps.config.shiftStarts, timeZone: deps.config.shiftTimeZone });
    return { json: await handover(deps.store, scopeOf(principal).user, since) };
  },
});

export const handoverRoutes: ApiRoute[] = [summary];
