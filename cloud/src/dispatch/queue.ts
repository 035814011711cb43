// The dispatch queue: one row per (consumer, incident change). Consumers claim rows with a lease
// (FOR UPDATE SKIP LOCKED, so replicas and concurrent claims never hand out one row twice), then
// ack, nack or release them. A lease that runs out makes the row claimable again: delivery is
// at-least-once, and consumers deduplicate by message id.
import { randomBytes } from 'node:crypto';
import type { Queryable, Store } from '../store/store.ts';

export type MessageKind = 'dispatch' | 'escalation' | 'update';

/**
 * What the queue needs of an incident: its id and unit; the rest travels as the JSON snapshot.
 * Declared here, not imported from incidents/, so dispatch depends on no stage before it.
 */
export interface QueuedIncident {
  id: number;
  unitId: string | null;
  /** 'maintenance' (faults, tamper, battery, offline): not for the dispatch centre's emergency queue. */
  lane?: string;
}

/** The part of a caller's post-commit outcome the queue reports into. */
export interface QueueSignal {
  queued: boolean;
}

/** `I`: the incident snapshot's type as the caller knows it (the API: incidents' `Incident`). */
export interface DispatchMessage<I extends QueuedIncident = QueuedIncident> {
  id: number;
  incidentId: number;
  kind: MessageKind;
  unitId: string | null;
  incident: I;
  /** How many times this message has been handed out (claims and webhook attempts). */
  deliveries: number;
  attempts: number;
  leaseToken: string | null;
  leaseUntil: number | null;
  state: 'ready' | 'leased' | 'acked' | 'dead';
  lastError: string | null;
}

interface MessageRow {
  id: string | number;
  incident_id: string | number;
  kind: MessageKind;
  unit_id: string | null;
  payload: QueuedIncident | string;
  deliveries: number;
  attempts: number;
  lease_token: string | null;
  lease_until: Date | string | null;
  state: DispatchMessage['state'];
  last_error: string | null;
}

const MESSAGE_COLUMNS = 'id, incident_id, kind, unit_id, payload, deliveries, attempts, lease_token, lease_until, state, last_error';

function toMessage(row: MessageRow): DispatchMessage {
  return {
    id: Number(row.id),
    incidentId: Number(row.incident_id),
    kind: row.kind,
    unitId: row.unit_id,
    incident: typeof row.payload === 'string' ? (JSON.parse(row.payload) as QueuedIncident) : row.payload,
    deliveries: Number(row.deliveries),
    attempts: Number(row.attempts),
    leaseToken: row.lease_token,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until).getTime(),
    state: row.state,
    lastError: row.last_error,
  };
}

/**
 * Queues the incident for every consumer following its unit (or '*'), inside the caller's
 * transaction. Maintenance-lane incidents go only to consumers naming the unit: a '*' consumer is
 * the dispatch centre's emergency queue, and a low battery is not an emergency (issue 17).
 */
export async function enqueueDispatch(tx: Queryable, incident: QueuedIncident, kind: MessageKind, outcome: QueueSignal): Promise<void> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO dispatch_messages (consumer_id, incident_id, kind, unit_id, payload)
     SELECT id, $1, $2, $3, $4::text::jsonb FROM dispatch_consumers
     WHERE ('*' = ANY(units) AND NOT $5::boolean) OR ($3::text IS NOT NULL AND $3::text = ANY(units))
     RETURNING id`,
    [incident.id, kind, incident.unitId, JSON.stringify(incident), incident.lane === 'maintenance'],
  );
  if (rows.length > 0) outcome.queued = true;
}

/** Withdraws the incident's messages to `unitId` not yet handed out (state 'cancelled'), e.g. after a reassignment. */
export async function withdrawPending(tx: Queryable, incidentId: number, unitId: string, why: string): Promise<number> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE dispatch_messages SET state = 'cancelled', last_error = $3 WHERE incident_id = $1 AND unit_id = $2 AND state = 'ready' RETURNING id`,
    [incidentId, unitId, why.slice(0, 1024)],
  );
  return rows.length;
}

/** Leases up to `max` deliverable messages of one consumer: ready ones and ones whose lease ran out. */
export async function claim(store: Store, consumerId: string, max: number, leaseS: number): Promise<DispatchMessage[]> {
  const token = randomBytes(12).toString('base64url');
  const rows = await store.query<MessageRow>(
    `UPDATE dispatch_messages SET state = 'leased', lease_token = $3, lease_until = now() + make_interval(secs => $4::double precision),
       deliveries = deliveries + 1
     WHERE id IN (
       SELECT id FROM dispatch_messages
       WHERE consumer_id = $1 AND ((state = 'ready' AND available_at <= now()) OR (state = 'leased' AND lease_until <= now()))
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING ${MESSAGE_COLUMNS}`,
    [consumerId, max, token, leaseS],
  );
  return rows.map(toMessage).sort((a, b) => a.id - b.id);
}

export type SettleResult = 'ok' | 'not_found' | 'lease_lost';

async function settle(store: Store, consumerId: string, id: number, token: string, set: string, params: (string | number)[] = []): Promise<SettleResult> {
  const rows = await store.query<{ id: string }>(
    `UPDATE dispatch_messages SET ${set} WHERE id = $1 AND consumer_id = $2 AND state = 'leased' AND lease_token = $3 RETURNING id`,
    [id, consumerId, token, ...params],
  );
  if (rows.length > 0) return 'ok';
  const exists = await store.query<{ id: string }>('SELECT id FROM dispatch_messages WHERE id = $1 AND consumer_id = $2', [id, consumerId]);
  return exists.length > 0 ? 'lease_lost' : 'not_found';
}

export function ackMessage(store: Store, consumerId: string, id: number, token: string): Promise<SettleResult> {
  return settle(store, consumerId, id, token, "state = 'acked', acked_at = now(), lease_token = NULL, lease_until = NULL");
}

/** Back to the queue after `delayMs`, counted as a failed attempt; dead after `maxAttempts`. */
export function nackMessage(store: Store, consumerId: string, id: number, token: string, delayMs: number, maxAttempts: number, error: string): Promise<SettleResult> {
  return settle(
    store,
    consumerId,
    id,
    token,
    `attempts = attempts + 1, last_error = $6, lease_token = NULL, lease_until = NULL,
     state = CASE WHEN attempts + 1 >= $5 THEN 'dead' ELSE 'ready' END,
     available_at = now() + make_interval(secs => $4::double precision / 1000)`,
    [delayMs, maxAttempts, error.slice(0, 1024)],
  );
}

/** Back to the queue at once, not counted (the consumer is shutting down, say). */
export function releaseMessage(store: Store, consumerId: string, id: number, token: string): Promise<SettleResult> {
  return settle(store, consumerId, id, token, "state = 'ready', available_at = now(), lease_token = NULL, lease_until = NULL");
}

export async function deadMessages(db: Queryable, consumerId: string | null, limit = 100): Promise<DispatchMessage[]> {
  const rows = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM dispatch_messages WHERE state = 'dead' AND ($1::text IS NULL OR consumer_id = $1) ORDER BY id DESC LIMIT $2`,
    [consumerId, limit],
  );
  return rows.map(toMessage);
}
