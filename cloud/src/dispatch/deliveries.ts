// Push deliveries: claims due messages of consumers with a push target (FOR UPDATE SKIP LOCKED, so
// replicas share the work), hands each to the channel serving the target's scheme, and settles it
// by the outcome: ack, nack with exponential back-off, or dead at once when not retryable.
import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { backoffDelay } from '@gridwatch/protocol';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { ackMessage, nackMessage, type MessageKind } from './queue.ts';
import type { ChannelRegistry } from './channels/registry.ts';
import type { DeliveryMessage, DeliveryOutcome, DeliveryTarget } from './channels/types.ts';

const DELIVERY_TIMEOUT_MS = 5000;
const MAX_BACKOFF_MS = 300_000;

interface Claimed {
  id: string | number;
  consumer_id: string;
  incident_id: string | number;
  kind: MessageKind;
  unit_id: string | null;
  payload: unknown;
  attempts: number;
  deliveries: number;
  lease_token: string;
  webhook_url: string;
  webhook_secret: string | null;
}

export interface DeliveryOptions {
  channels: ChannelRegistry;
  maxAttempts: number;
  backoffMs: number;
  log: Logger;
  /** Called once per attempt with the channel and whether it was delivered. */
  onDelivered?: (channelId: string, ok: boolean) => void;
}

async function claimDue(store: Store, limit: number): Promise<Claimed[]> {
  const token = randomBytes(12).toString('base64url');
  return store.query<Claimed>(
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
}

function messageOf(row: Claimed): DeliveryMessage {
  return {
    id: Number(row.id),
    consumerId: row.consumer_id,
    incidentId: Number(row.incident_id),
    kind: row.kind,
    unitId: row.unit_id,
    deliveries: Number(row.deliveries),
    incident: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
  };
}

async function attempt(row: Claimed, options: DeliveryOptions): Promise<{ channelId: string; outcome: DeliveryOutcome }> {
  const target: DeliveryTarget = { consumerId: row.consumer_id, url: row.webhook_url, secret: row.webhook_secret };
  const channel = options.channels.forTarget(target.url);
  if (!channel) return { channelId: 'none', outcome: { ok: false, retryable: false, detail: `no channel serves ${target.url.split(':')[0]}: targets` } };
  if (!Value.Check(channel.configSchema, target)) {
    return { channelId: channel.id, outcome: { ok: false, retryable: false, detail: `target refused by channel ${channel.id}: ${Value.Errors(channel.configSchema, target).First()?.message ?? 'invalid'}` } };
  }
  try {
    return { channelId: channel.id, outcome: await channel.deliver(messageOf(row), target, { log: options.log, timeoutMs: DELIVERY_TIMEOUT_MS }) };
  } catch (err) {
    // A channel should answer with an outcome; one that throws is treated as a transient failure.
    return { channelId: channel.id, outcome: { ok: false, retryable: true, detail: err instanceof Error ? err.message : String(err) } };
  }
}

async function deliverOne(store: Store, row: Claimed, options: DeliveryOptions): Promise<void> {
  const id = Number(row.id);
  const { channelId, outcome } = await attempt(row, options);
  options.onDelivered?.(channelId, outcome.ok);
  if (outcome.ok) {
    await ackMessage(store, row.consumer_id, id, row.lease_token);
    return;
  }
  const delay = backoffDelay(Number(row.attempts), { baseMs: options.backoffMs, maxMs: MAX_BACKOFF_MS });
  // Not retryable: dead now (one attempt is the limit), so it shows in the dead letters at once.
  await nackMessage(store, row.consumer_id, id, row.lease_token, delay, outcome.retryable ? options.maxAttempts : 1, outcome.detail);
  options.log.warn({ channel: channelId, consumerId: row.consumer_id, messageId: id, attempt: Number(row.attempts) + 1, retryable: outcome.retryable, error: outcome.detail }, 'push delivery failed');
}

/** Claims due push deliveries across all push consumers and sends them; returns how many were tried. */
export async function pushDeliveries(store: Store, options: DeliveryOptions, limit = 20): Promise<number> {
  const rows = await claimDue(store, limit);
  await Promise.all(rows.map((row) => deliverOne(store, row, options)));
  return rows.length;
}
