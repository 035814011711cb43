// Messages and events ingest refuses are kept, with the reason, so an operator can see what a
// gateway sent and why it was refused, instead of the evidence vanishing into a log line. The bytes
// are kept exactly (bytea), so a payload with 0x00 or invalid UTF-8 is stored like any other.
import type { Queryable } from '../store/store.ts';

/** Enough to diagnose; a 1 MiB garbage payload is not worth keeping whole. */
const MAX_STORED_PAYLOAD = 64 * 1024;
const MAX_REASON = 2048;

export interface DeadLetter {
  topic: string;
  gatewayId: string | null;
  eventId?: string | null;
  reason: string;
  payload: Buffer;
}

/** Text PostgreSQL can hold: U+0000 and lone surrogates become U+FFFD. */
export function storableText(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}

export async function insertDeadLetter(db: Queryable, letter: DeadLetter): Promise<void> {
  const bytes = letter.payload.subarray(0, MAX_STORED_PAYLOAD);
  await db.query(
    `INSERT INTO dead_letters (topic, gateway_id, event_id, reason, payload, payload_bytes)
     VALUES ($1, $2, $3, $4, $5, decode($6, 'base64'))`,
    [
      storableText(letter.topic),
      letter.gatewayId === null ? null : storableText(letter.gatewayId),
      letter.eventId == null ? null : storableText(letter.eventId),
      storableText(letter.reason.slice(0, MAX_REASON)),
      storableText(bytes.toString('utf8')),
      bytes.toString('base64'),
    ],
  );
}

export interface DeadLetterView {
  id: number;
  /** ISO 8601, as this endpoint has always answered. */
  receivedAt: string;
  topic: string;
  gatewayId: string | null;
  eventId: string | null;
  reason: string;
}

/** The newest refused messages, with the reason (admin API). */
export async function listDeadLetters(db: Queryable, limit = 200): Promise<DeadLetterView[]> {
  const rows = await db.query<{ id: string | number; received_at: Date | string; topic: string; gateway_id: string | null; event_id: string | null; reason: string }>(
    'SELECT id, received_at, topic, gateway_id, event_id, reason FROM dead_letters ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ id: Number(r.id), receivedAt: new Date(r.received_at).toISOString(), topic: r.topic, gatewayId: r.gateway_id, eventId: r.event_id, reason: r.reason }));
}
