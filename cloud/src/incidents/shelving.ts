// Shelving (搁置; ISA-18.2 / IEC 62682 § 17 "shelved alarms"): an operator suppresses the
// annunciation of an alarm they cannot act on now, with a reason and for a bounded time. The
// incident still exists and keeps recording occurrences: it leaves the board (`board=true`), is
// listed with `shelved=true`, and its pending deadlines are paused, because an escalation is an
// annunciation to more people. At the expiry the shelving job returns it (audit `unshelve`, actor
// system) with its remaining deadline time. Policy (`alarmPolicy.shelving`): at most `maxHours`,
// and only `levels` (3–5 by default: life-safety levels 1–2 may not be shelved).
import type { Queryable, SqlParam } from '../store/store.ts';
import { enqueueDispatch } from '../dispatch/queue.ts';
import { audit, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { TransitionError } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { DEFAULT_ALARM_POLICY, type ShelvingPolicy } from './policy.ts';

export function shelvingPolicy(options: EngineOptions): ShelvingPolicy {
  return options.alarmPolicy?.shelving ?? DEFAULT_ALARM_POLICY.shelving;
}

export function mayShelve(policy: ShelvingPolicy, level: number): boolean {
  return policy.levels.includes(level);
}

function nowOf(options: EngineOptions): number {
  return options.clock ? options.clock() : Date.now();
}

export interface ShelveInput {
  actor: string;
  source: string;
  /** The reason (required). */
  note: string;
  /** ISO-8601 end of the shelve (required). */
  until: string | undefined;
}

/** The checked end of a shelve, in epoch ms; TransitionError (400/409) naming what is wrong. */
function shelveUntil(incident: Incident, input: ShelveInput, policy: ShelvingPolicy, nowMs: number): number {
  if (!mayShelve(policy, incident.level)) {
    throw new TransitionError(
      `level: a level-${incident.level} incident may not be shelved (alarmPolicy.shelving.levels: ${policy.levels.join(', ') || 'none'}; ISA-18.2: life-safety alarms stay annunciated)`,
      'conflict',
    );
  }
  if (input.note.trim() === '') throw new TransitionError('note: a reason is required for shelve', 'invalid');
  if (input.until === undefined) throw new TransitionError('until: required for shelve (ISO-8601 time the incident returns to the board)', 'invalid');
  const until = /^\d{4}-\d\d-\d\dT/.test(input.until) ? Date.parse(input.until) : Number.NaN;
  if (Number.isNaN(until)) throw new TransitionError(`until: expected an ISO-8601 time, got ${input.until}`, 'invalid');
  if (until <= nowMs) throw new TransitionError(`until: ${input.until} is not in the future`, 'invalid');
  const maxMs = policy.maxHours * 3_600_000;
  if (until - nowMs > maxMs) throw new TransitionError(`until: at most ${policy.maxHours} h from now (alarmPolicy.shelving.maxHours)`, 'invalid');
  return until;
}

/** 搁置: off the board until `until`, deadlines paused. Shelving a shelved incident moves its end. */
export async function shelve(tx: Queryable, incident: Incident, input: ShelveInput, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  const nowMs = nowOf(options);
  const until = shelveUntil(incident, input, shelvingPolicy(options), nowMs);
  const rows = await tx.query<IncidentRow>(
    `UPDATE incidents SET shelved_until = to_timestamp($2::double precision / 1000), shelved_reason = $3, updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [incident.id, until, input.note],
  );
  await tx.query(
    'UPDATE deadlines SET paused_at = to_timestamp($2::double precision / 1000) WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL',
    [incident.id, nowMs],
  );
  const next = toIncident(rows[0] as IncidentRow);
  await audit(tx, incident.id, { actor: input.actor, source: input.source, action: 'shelve', from: incident.status, to: next.status, note: input.note, noteParams: { until: next.shelvedUntil ?? '' } });
  await enqueueDispatch(tx, next, 'update', outcome);
  return outcome.touch(next);
}

/** Back on the board now; paused deadlines resume with the time they had left. */
export async function unshelve(tx: Queryable, incident: Incident, input: Omit<ShelveInput, 'until'>, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  if (incident.shelvedUntil === null) throw new TransitionError(`action: incident ${incident.id} is not shelved`, 'conflict');
  const nowMs = nowOf(options);
  const rows = await tx.query<IncidentRow>(`UPDATE incidents SET shelved_until = NULL, shelved_reason = '', updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [incident.id]);
  const params: SqlParam[] = [incident.id, nowMs];
  await tx.query(
    `UPDATE deadlines SET due_at = due_at + (to_timestamp($2::double precision / 1000) - paused_at),
       started_at = started_at + (to_timestamp($2::double precision / 1000) - paused_at), paused_at = NULL
     WHERE incident_id = $1 AND paused_at IS NOT NULL AND fired_at IS NULL AND cancelled_at IS NULL`,
    params,
  );
  const next = toIncident(rows[0] as IncidentRow);
  await audit(tx, incident.id, {
    actor: input.actor,
    source: input.source,
    action: 'unshelve',
    from: incident.status,
    to: next.status,
    note: input.note,
    noteParams: { until: incident.shelvedUntil ?? '', reason: incident.shelvedReason },
  });
  await enqueueDispatch(tx, next, 'update', outcome);
  return outcome.touch(next);
}

/** The shelving job's half: shelves ended by `nowMs` (the rehearsal or wall clock) return, actor system. */
export async function unshelveExpired(tx: Queryable, nowMs: number, options: EngineOptions, outcome: Outcome, limit = 100): Promise<Incident[]> {
  const due = await tx.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE shelved_until IS NOT NULL AND shelved_until <= to_timestamp($1::double precision / 1000)
     ORDER BY shelved_until, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [nowMs, limit],
  );
  const engine = { ...options, clock: () => nowMs };
  const back: Incident[] = [];
  for (const row of due) {
    const incident = toIncident(row);
    back.push(await unshelve(tx, incident, { actor: 'system', source: 'shelving', note: '' }, engine, outcome));
  }
  return back;
}

/**
 * An incident whose level rose to one that may not be shelved (a level-1 device joined) returns
 * at once: shelving must never hide a life-safety alarm.
 */
export async function unshelveIfNotShelvable(tx: Queryable, incident: Incident, options: EngineOptions, outcome: Outcome): Promise<Incident> {
  if (incident.shelvedUntil === null || mayShelve(shelvingPolicy(options), incident.level)) return incident;
  return unshelve(tx, incident, { actor: 'system', source: 'shelving', note: '' }, options, outcome);
}
