// Incidents: the board's list, one incident with its audit trail, context and CAP 1.2 rendering,
// and the lifecycle actions staff, consumers and open-access callers take on it.
import { Type } from '@sinclair/typebox';
import { ACTING_ROLES } from '../../auth/users.ts';
import { incidentContext, listIncidentsFor, pendingDeadlines, type IncidentFilter } from '../../console/queries.ts';
import { renderCap } from '../../dispatch/cap.ts';
import { getAddress, isTier, TIERS, type Tier } from '../../routing/directory.ts';
import { canSee } from '../../auth/scope.ts';
import type { Queryable } from '../../store/store.ts';
import { auditTrail, getIncident, INCIDENT_STATUSES, type Incident } from '../../incidents/incident.ts';
import { ACTIONS, applyAction, TransitionError, type ActionInput, type TargetUnit } from '../../incidents/lifecycle.ts';
import { Outcome } from '../../incidents/outcome.ts';
import { defineRoute, type ApiDeps, type ApiRoute } from '../deps.ts';
import { badRequest, HttpError } from '../errors.ts';
import { LOGIN_HINT, scopeOf, type Principal } from '../principal.ts';
import { AuditList, commaList, IdParam, idSegment, IncidentContextSchema, IncidentList, IncidentSchema, oneOf, text } from '../schemas.ts';

const NOT_VISIBLE = { 404: 'No such incident, or not in the caller’s jurisdiction (its existence is not revealed)' } as const;

/** The incident the caller may see; 404 for others. */
async function visibleIncident(deps: ApiDeps, principal: Principal, id: number): Promise<Incident> {
  const incident = await getIncident(deps.store, id);
  if (!incident || !scopeOf(principal).sees(incident)) throw new HttpError(404, `id: incident ${id} not found`);
  return incident;
}

const list = defineRoute({
  method: 'get',
  path: '/api/v1/incidents',
  tag: 'incidents',
  summary: 'List incidents in the caller’s jurisdictions, newest first',
  access: 'reader',
  query: Type.Object({
    status: Type.Optional(oneOf(INCIDENT_STATUSES)),
    unitId: Type.Optional(idSegment('unit')),
    lane: Type.Optional(oneOf(['emergency', 'maintenance'] as const, { description: 'Only this lane: maintenance = the installer’s queue' })),
    board: Type.Optional(oneOf(['true'] as const, { description: 'true: the board — items not folded into a flood notice or a chattering incident' })),
    groupId: Type.Optional(Type.Integer({ minimum: 1, description: 'Drill-down: the incidents folded into this one' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    deadlines: Type.Optional(oneOf(['pending'], { description: 'Attach each incident’s pending deadlines (the board’s “time left”)' })),
    level: Type.Optional(commaList('[1-5]', { description: 'Only these levels: comma-separated or repeated, e.g. 1,2' })),
    type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'Only this alarm type' })),
    grid: Type.Optional(text(64, { description: 'Only this grid' })),
    q: Type.Optional(text(100, { description: 'Search: text address, place name or device id containing this (literally; % and _ are not wildcards)' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'History: raised at or after this ISO-8601 time (closed incidents included)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'History: raised before this ISO-8601 time' })),
    shelved: Type.Optional(oneOf(['true'] as const, { description: 'true: only incidents shelved (搁置) now' })),
  }),
  ok: { status: 200, description: 'Incidents', schema: IncidentList },
  async handler({ query, principal, deps }) {
    const { deadlines, limit, board, level, type, grid, q, from, to, shelved, ...rest } = query;
    const filter: IncidentFilter = {
      ...(level ? { levels: level.split(',').map(Number) } : {}),
      ...(type ? { alarmType: type } : {}),
      ...(grid ? { grid } : {}),
      ...(q?.trim() ? { q: q.trim() } : {}),
      ...(from ? { from: Date.parse(from) } : {}),
      ...(to ? { to: Date.parse(to) } : {}),
      ...(shelved ? { shelved: true } : {}),
    };
    const incidents = await listIncidentsFor(deps.store, scopeOf(principal).user, { ...rest, ...(board ? { board: true } : {}), limit: limit ?? 100 }, filter);
    if (deadlines !== 'pending') return { json: { incidents } };
    const pending = await pendingDeadlines(deps.store, incidents.map((i) => i.id));
    return { json: { incidents: incidents.map((i) => ({ ...i, deadlines: pending.get(i.id) ?? [] })) } };
  },
});

const one = defineRoute({
  method: 'get',
  path: '/api/v1/incidents/:id',
  tag: 'incidents',
  summary: 'One incident',
  access: 'reader',
  params: IdParam,
  ok: { status: 200, description: 'The incident', schema: IncidentSchema },
  errors: NOT_VISIBLE,
  async handler({ params, principal, deps }) {
    return { json: await visibleIncident(deps, principal, params.id) };
  },
});

const audit = defineRoute({
  method: 'get',
  path: '/api/v1/incidents/:id/audit',
  tag: 'incidents',
  summary: 'Audit trail of an incident: every transition, who, when, from where',
  access: 'reader',
  params: IdParam,
  ok: { status: 200, description: 'Audit entries, oldest first', schema: AuditList },
  errors: NOT_VISIBLE,
  async handler({ params, principal, deps }) {
    const incident = await visibleIncident(deps, principal, params.id);
    return { json: { audit: await auditTrail(deps.store, incident.id) } };
  },
});

const context = defineRoute({
  method: 'get',
  path: '/api/v1/incidents/:id/context',
  tag: 'incidents',
  summary: 'Address, alarm events with their readings around the incident, deadlines, latest values (console detail)',
  access: 'reader',
  params: IdParam,
  ok: { status: 200, description: 'Context', schema: IncidentContextSchema },
  errors: NOT_VISIBLE,
  async handler({ params, principal, deps }) {
    const incident = await visibleIncident(deps, principal, params.id);
    const found = await incidentContext(deps.store, incident);
    return { json: { ...found, latest: deps.latest.list(incident.gatewayId, incident.deviceId) } };
  },
});

const cap = defineRoute({
  method: 'get',
  path: '/api/v1/incidents/:id/cap',
  tag: 'incidents',
  summary: 'The incident as a CAP 1.2 alert',
  access: 'reader',
  params: IdParam,
  ok: { status: 200, description: 'CAP 1.2 XML', contentType: 'application/xml' },
  errors: NOT_VISIBLE,
  async handler({ params, principal, deps }) {
    const incident = await visibleIncident(deps, principal, params.id);
    const place = incident.addressId ? await getAddress(deps.store, incident.addressId) : null;
    return { text: renderCap(incident, deps.config.capSender, place), type: 'application/xml' };
  },
});

const ActionRequest = Type.Object(
  {
    action: oneOf(ACTIONS),
    actor: Type.Optional(text(128, { description: 'Who acts. Required for consumers and open-access callers; a logged-in user always acts as themself' })),
    note: Type.Optional(text(2000)),
    unitId: Type.Optional(text(64, { description: 'The unit to dispatch to (action dispatch), or to hand the incident to (action reassign, required)' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Action shelve (required): ISO-8601 time the incident returns to the board, at most alarmPolicy.shelving.maxHours (default 8 h) ahead' })),
    members: Type.Optional(Type.Boolean({ description: 'Action acknowledge of a flood notice: acknowledge every open member too, one audit row each' })),
  },
  { $id: 'ActionRequest' },
);

const TRANSITION_STATUS = { not_found: 404, conflict: 409, invalid: 400, forbidden: 403 } as const;

/** Whether a user may hand an incident to `unit`: the unit's area lies within their jurisdictions. */
function mayAssignFor(principal: Principal): ((unit: TargetUnit, db: Queryable) => Promise<boolean>) | undefined {
  const { user } = scopeOf(principal);
  if (user === null) return undefined;
  return async (unit, db) => {
    if (!isTier(unit.tier)) return false;
    const tiers = TIERS.slice(TIERS.indexOf(unit.tier));
    const rows = await db.query<Partial<Record<Tier, string | null>>>(`SELECT ${tiers.join(', ')} FROM addresses WHERE ${unit.tier} = $1 LIMIT 1`, [unit.area]);
    const found = rows[0] ?? { [unit.tier]: unit.area };
    return canSee(user, { grid: found.grid ?? null, community: found.community ?? null, street: found.street ?? null, district: found.district ?? null });
  };
}

function sourceOf(principal: Principal, ip: string | undefined): string {
  if (principal.kind === 'user') return `console:${ip ?? 'unknown'}`;
  return principal.kind === 'consumer' ? `consumer:${principal.consumer.id}` : `rest:${ip ?? 'unknown'}`;
}

/** Who acts: a logged-in user as themself (and only in an acting role); others name the actor. */
function actorOf(principal: Principal, actor: string | undefined, openAccess: boolean): string {
  // Anonymous actions exist only for open-access installations (the demo, the walking skeleton).
  if (principal.kind === 'anonymous' && !openAccess) throw new HttpError(401, LOGIN_HINT);
  if (principal.kind === 'user') {
    if (!ACTING_ROLES.includes(principal.user.role)) throw new HttpError(403, `role: ${principal.user.role} may not change incidents (${ACTING_ROLES.join(', ')} may)`);
    return principal.user.username;
  }
  // A consumer acts as itself: a caller-supplied actor would let one system sign as another (issue 11).
  if (principal.kind === 'consumer') return `consumer:${principal.consumer.id}`;
  if (actor === undefined) throw badRequest('actor: required');
  if (actor.trim() === '') throw badRequest('actor: must not be empty');
  return actor;
}

const actions = defineRoute({
  method: 'post',
  path: '/api/v1/incidents/:id/actions',
  tag: 'incidents',
  summary: 'Lifecycle action (dispatch, acknowledge, on_site, resolve, close, false_alarm, test, note, reassign, shelve, unshelve)',
  access: 'reader',
  params: IdParam,
  body: ActionRequest,
  ok: { status: 200, description: 'The incident after the action', schema: IncidentSchema },
  errors: {
    400: 'A field the action needs is missing or wrong (reassign: unitId, note; shelve: note, until)',
    403: 'The user’s role may not change incidents, or the reassign target is outside their jurisdictions',
    ...NOT_VISIBLE,
    409: 'Illegal transition from the current status, or shelving not allowed for the level (alarmPolicy.shelving.levels)',
  },
  async handler({ params, body, principal, deps, req }) {
    const { id } = await visibleIncident(deps, principal, params.id);
    const actor = actorOf(principal, body.actor, deps.config.openAccess);
    const outcome = new Outcome();
    const mayAssign = mayAssignFor(principal);
    const request: ActionInput = {
      action: body.action,
      actor,
      note: body.note ?? '',
      source: sourceOf(principal, req.ip),
      ...(body.unitId ? { unitId: body.unitId } : {}),
      ...(body.until !== undefined ? { until: body.until } : {}),
      ...(body.members ? { members: true } : {}),
      ...(mayAssign ? { mayAssign } : {}),
    };
    try {
      const incident = await deps.store.transaction((tx) => applyAction(tx, id, request, deps.engine, outcome));
      deps.onOutcome(outcome);
      return { json: incident };
    } catch (err) {
      if (err instanceof TransitionError) throw new HttpError(TRANSITION_STATUS[err.kind], err.message);
      throw err;
    }
  },
});

export const incidentRoutes: ApiRoute[] = [list, one, audit, context, cap, actions];
