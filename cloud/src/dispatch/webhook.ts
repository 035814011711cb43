// Webhook push for consumers that configured a URL. Each delivery is a POST of the dispatch
// message as JSON, signed with HMAC-SHA256 over `${timestamp}.${body}` (the timestamp is signed so
// a captured request cannot be replayed later). Failures are retried with exponential back-off;
// after `maxAttempts` the message is dead-lettered and listed at GET /api/v1/dispatch/dead-letters.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { ackMessage, nackMessage, type DispatchMessage } from './queue.ts';

export const SIGNATURE_HEADER = 'x-gridwatch-signature';
export const TIMESTAMP_HEADER = 'x-gridwatch-timestamp';
export const DELIVERY_HEADER = 'x-gridwatch-delivery';

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers: true when the signature matches and the timestamp is within `toleranceMs`. */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string, toleranceMs = 300_000, now = Date.now()): boolean {
  const t = Number(timestamp);
  if (!Number.isFinite(t) || Math.abs(now - t) > toleranceMs) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const DELIVERY_TIMEOUT_MS = 5000;
const MAX_BACKOFF_MS = 300_000;

interface Claimed {
  id: string | number;
  consumer_id: string;
  incident_id: string | number;
  kind: string;
  unit_id: string | null;
  payload: unknown;
  attempts: number;
  deliveries: number;
  lease_token: string;
  webhook_url: string;
  webhook_secret: string;
}

export interface WebhookOptions {
  maxAttempts: number;
  backoffMs: number;
  log: Logger;
  onDelivered?: (ok: boolean) => void;
}

/** Claims due webhook deliveries across all webhook consumers and sends them; returns how many were tried. */
export async function pushWebhooks(store: Store, options: WebhookOptions, limit = 20): Promise<number> {
  const token = randomBytes(12).toString('base64url');
  const rows = await store.query<Claimed>(
    `WITH picked AS (
       SELECT m.id FROM dispatch_messages m JOIN dispatch_consumers c ON c.id = m.consumer_id
       WHERE c.webhook_url IS NOT NULL
         AND ((m.state = 'ready' AND m.available_at <= now()) OR (m.state = 'leased' AND m.lease_until <= now()))
       ORDER BY m.id LIMIT $1 FOR UPDATE OF m SKIP LOCKED)
     UPDATE dispatch_messages d SET state = 'leased', lease_token = $2, lease_until = now() + interval '30 seconds', deliveries = deliveries + 1
     FROM picked, dispatch_consumers c
     WHERE d.id = picked.id AND c.id = d.consumer_id
     RETURNING d.id, d.consumer_id, d.incident_id, d.kind, d.unit_id, d.payload, d.attempts, d.deliveries, d.lease_token, c.webhook_url, c.webhook_secret`,
    [limit, token],
  );
  await Promise.all(rows.map((row) => deliver(store, row, options)));
  return rows.length;
}

async function deliver(store: Store, row: Claimed, options: WebhookOptions): Promise<void> {
  const id = Number(row.id);
  const message: Pick<DispatchMessage, 'id' | 'incidentId' | 'kind' | 'unitId' | 'deliveries'> & { consumerId: string; incident: unknown } = {
    id,
    consumerId: row.consumer_id,
    incidentId: Number(row.incident_id),
    kind: row.kind as DispatchMessage['kind'],
    unitId: row.unit_id,
    deliveries: Number(row.deliveries),
    incident: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
  };
  const body = JSON.stringify(message);
  const timestamp = String(Date.now());
  let error: string | null = null;
  try {
    const res = await fetch(row.webhook_url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signWebhook(row.webhook_secret, timestamp, body),
        [DELIVERY_HEADER]: String(id),
      },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) error = `HTTP ${res.status}`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  if (error === null) {
    await ackMessage(store, row.consumer_id, id, row.lease_token);
    options.onDelivered?.(true);
    return;
  }
  const delay = Math.min(MAX_BACKOFF_MS, options.backoffMs * 2 ** Number(row.attempts));
  await nackMessage(store, row.consumer_id, id, row.lease_token, delay, options.maxAttempts, error);
  options.onDelivered?.(false);
  options.log.warn({ consumerId: row.consumer_id, messageId: id, attempt: Number(row.attempts) + 1, error }, 'webhook delivery failed');
}
