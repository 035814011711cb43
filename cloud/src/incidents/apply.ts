// Turns committed alarm events into incidents, inside the caller's transaction. Idempotency comes
// from the events primary key: an event id the cloud already holds is counted as a duplicate and
// never touches an incident again, so replays after reconnects leave exactly one occurrence.
//
// Every event gets an answer: isolated (the default), each is applied under its own savepoint, so a
// store error on one event (a value the store refuses, a broken constraint) rolls back that event
// only and rejects it by id, while the others commit. Ingest's group commit applies a burst without
// savepoints first (two round trips fewer per event) and, on any store error, redoes it isolated. Only transient errors (connection lost, serialization failure,
// deadlock) abort the whole transaction for the caller to retry. Per source, events apply in edge
// sequence order (source-order.ts); raise.ts and clear.ts hold the incident logic. Concurrent raises
// in one community serialise on an advisory lock, so two replicas cannot both decide "first in the
// building".
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import { PlacementRefused, resolvePlacement, type PlacementPolicy } from '../gateways/placement.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { DEFAULT_DEADLINES } from './deadline-table.ts';
import { DEFAULT_ACK_POLICY } from './ack-policy.ts';
import { clear } from './clear.ts';
import { audit, type Incident } from './incident.ts';
import { Outcome, type EngineOptions } from './outcome.ts';
import { noteOf } from './reasons.ts';
import { raise } from './raise.ts';
import { ADVANCE_ON_CONFLICT } from './source-order.ts';
import { openIncidentOf } from './sources.ts';
import type { RejectReason } from '../metrics.ts';
import { describeStoreError, EventRefused, isTransientStoreError, isUniqueRace } from './store-errors.ts';


export interface ApplyResult {
  /** Event ids inserted by this call (stale ones included: stored, acknowledged, not applied). */
  inserted: string[];
  /** Event ids the cloud already held; acknowledged again but not re-applied. */
  duplicates: string[];
  /** Inserted events older than what their source had applied: stored for the audit only. */
  stale: string[];
  /** Events the store refused (not transient): nothing of them was kept; the edge is told why. */
  rejected: { id: string; reason: string; label: RejectReason }[];
  /** Incidents created or changed, final state, one entry per incident. */
  incidents: Incident[];
}

export const DEFAULT_ENGINE: EngineOptions = { deadlines: DEFAULT_DEADLINES, autoCloseTypes: ['*'], ackPolicy: DEFAULT_ACK_POLICY };

export type Answer = 'inserted' | 'duplicate' | 'stale' | { rejected: string; label: RejectReason };

/** Unique races with another replica are retried this often before the event is rejected. */
const UNIQUE_RACE_ATTEMPTS = 3;

/** How a batch is applied: see the file's head. */
export interface ApplyMode {
  /** A savepoint per event (a store error rejects that event only); false: any error aborts the batch. */
  isolate: boolean;
  /** Writes the gateway's last_seen_at; false when the caller marks the gateway alive itself. */
  markSeen: boolean;
}

export const ISOLATED: ApplyMode = { isolate: true, markSeen: true };

export async function applyEvents(
  tx: Queryable,
  gateway: GatewayRecord,
  events: readonly AlarmEvent[],
  options: EngineOptions = DEFAULT_ENGINE,
  outcome: Outcome = new Outcome(),
  mode: ApplyMode = ISOLATED,
): Promise<ApplyResult> {
  const result: ApplyResult = { inserted: [], duplicates: [], stale: [], rejected: [], incidents: [] };
  const changed = new Map<number, Incident>();
  for (const event of events) {
    const answered = mode.isolate ? await applyIsolated(tx, gateway, event, options) : await applyDirect(tx, gateway, event, options);
    recordAnswer(result, changed, event.id, answered, outcome);
  }
  if (mode.markSeen && result.inserted.length > 0) {
    // Seen at the engine's clock: in a rehearsal the scripted time, else the database's.
    await tx.query('UPDATE gateways SET last_seen_at = COALESCE(to_timestamp($2::double precision / 1000), now()) WHERE id = $1', [gateway.gatewayId, options.clock ? options.clock() : null]);
  }
  result.incidents = [...changed.values()];
  return result;
}

/** Files one event's answer in the batch's result; its side effects count only if it was applied. */
export function recordAnswer(result: ApplyResult, changed: Map<number, Incident>, eventId: string, { answer, local }: { answer: Answer; local: Outcome }, outcome: Outcome): void {
  if (typeof answer === 'object') {
    result.rejected.push({ id: eventId, reason: answer.rejected, label: answer.label });
    return;
  }
  if (answer === 'duplicate') result.duplicates.push(eventId);
  else result.inserted.push(eventId);
  if (answer === 'stale') result.stale.push(eventId);
  for (const i of local.incidents.values()) changed.set(i.id, i);
  outcome.merge(local);
}

/** One event without a savepoint: any error propagates and the caller's transaction is lost. */
async function applyDirect(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, options: EngineOptions): Promise<{ answer: Answer; local: Outcome }> {
  const local = new Outcome();
  return { answer: await applyEvent(tx, gateway, event, options, local), local };
}

/** One event under its own savepoint; its side effects (outcome) count only if it committed. */
async function applyIsolated(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, options: EngineOptions): Promise<{ answer: Answer; local: Outcome }> {
  for (let attempt = 1; ; attempt += 1) {
    const local = new Outcome();
    await tx.query('SAVEPOINT gridwatch_event');
    try {
      const answer = await applyEvent(tx, gateway, event, options, local);
      await tx.query('RELEASE SAVEPOINT gridwatch_event');
      return { answer, local };
    } catch (err) {
      if (isTransientStoreError(err)) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT gridwatch_event');
      await tx.query('RELEASE SAVEPOINT gridwatch_event');
      if (isUniqueRace(err) && attempt < UNIQUE_RACE_ATTEMPTS) continue;
      const answer = err instanceof EventRefused ? { rejected: err.message, label: err.label } : { rejected: describeStoreError(err), label: 'store' as const };
      return { answer, local: new Outcome() };
    }
  }
}

/**
 * Stores the event and, unless it is an installer test, advances its source (source-order.ts) in
 * the same statement: one round trip instead of two. `advanced` is false for a duplicate (nothing
 * inserted, so the source is not touched) and for a stale event.
 */
async function insertEvent(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent): Promise<{ inserted: boolean; advanced: boolean }> {
  const rows = await tx.query<{ inserted: boolean; advanced: boolean }>(
    `WITH ins AS (
       INSERT INTO events (event_id, gateway_id, site, seq, device_id, profile_id, alarm_type, action, level, reason,
         edge_time, test, address_id, readings)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11::double precision / 1000), $12, $13, $14::text::jsonb)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING gateway_id, device_id, alarm_type, seq, action, test
     ), adv AS (
       INSERT INTO source_state (gateway_id, device_id, alarm_type, last_seq, active)
       SELECT gateway_id, device_id, alarm_type, seq, action = 'raise' FROM ins WHERE NOT test
       ${ADVANCE_ON_CONFLICT}
     )
     SELECT EXISTS (SELECT 1 FROM ins) AS inserted, EXISTS (SELECT 1 FROM adv) AS advanced`,
    [
      event.id,
      gateway.gatewayId,
      gateway.site,
      event.seq,
      event.deviceId,
      event.profileId,
      event.alarmType,
      event.action,
      event.level,
      event.reason,
      event.edgeTime,
      event.test ?? false,
      event.addressId ?? null,
      event.readings ? JSON.stringify(event.readings) : null,
    ],
  );
  return { inserted: rows[0]?.inserted === true, advanced: rows[0]?.advanced === true };
}

/** One event, no savepoint (the set-based apply, apply-set.ts, runs the events it cannot batch through here). */
export async function applyEvent(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, options: EngineOptions, outcome: Outcome): Promise<Answer> {
  const stored = await insertEvent(tx, gateway, event);
  if (!stored.inserted) return 'duplicate';
  // Installer tests are recorded for the commissioning report but never become incidents.
  if (event.test) return 'inserted';
  if (!stored.advanced) {
    await recordStale(tx, gateway, event);
    return 'stale';
  }
  const address = await bindDevice(tx, gateway, event, options.placement);
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [address ? `community:${address.community}` : `source:${gateway.gatewayId}/${event.deviceId}`]);
  const incident = event.action === 'raise' ? await raise(tx, { gateway, event, address }, options, outcome) : await clear(tx, gateway, event, options, outcome);
  // An incident this event opened was linked by its own INSERT (raise.ts, openIncident).
  if (incident && incident.firstEventId !== event.id) await tx.query('UPDATE events SET incident_id = $1 WHERE event_id = $2', [incident.id, event.id]);
  return 'inserted';
}

/** A late or replayed event: kept (applied = false) and noted on the source's open incident, if any. */
async function recordStale(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent): Promise<void> {
  const incidentId = await openIncidentOf(tx, gateway.gatewayId, event.deviceId, event.alarmType);
  await tx.query('UPDATE events SET applied = false, incident_id = $2 WHERE event_id = $1', [event.id, incidentId]);
  if (incidentId === null) return;
  await audit(tx, incidentId, {
    actor: `gateway:${gateway.gatewayId}`,
    source: 'device',
    action: 'late_event',
    ...noteOf('late_event_stored', { event: event.action, seq: event.seq, deviceId: event.deviceId }),
  });
}

/** The address an event routes to, from the cloud's placement record (the edge's claim only fills an empty record). */
async function bindDevice(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, policy?: PlacementPolicy): Promise<Address | null> {
  // The cloud owns placement (issue 11): the registry's address routes; a foreign claim is refused.
  try {
    return await resolvePlacement(tx, gateway, event, policy);
  } catch (err) {
    if (err instanceof PlacementRefused) throw new EventRefused(err.message, err.label);
    throw err;
  }
}
