// Messages and events ingest refuses are kept, with the reason, so an operator can see what a
// gateway sent and why it was refused, instead of the evidence vanishing into a log line.
import type { Queryable } from '../store/store.ts';

/** Enough to diagnose; a 1 MiB garbage payload is not worth keeping whole. */
const MAX_STORED_PAYLOAD = 64 * 1024;

export interface DeadLetter {
  topic: string;
  gatewayId: string | null;
  eventId?: string | null;
  reason: string;
  payload: string;
}

export async function insertDeadLetter(db: Queryable, letter: DeadLetter): Promise<void> {
  await db.query('INSERT INTO dead_letters (topic, gateway_id, event_id, reason, payload) VALUES ($1, $2, $3, $4, $5)', [
    letter.topic,
    letter.gatewayId,
    letter.eventId ?? null,
    letter.reason.slice(0, 2048),
    letter.payload.slice(0, MAX_STORED_PAYLOAD),
  ]);
}
