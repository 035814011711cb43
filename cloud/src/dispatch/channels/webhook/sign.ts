// Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}`. The timestamp is signed so a
// captured request cannot be replayed later; receivers check it is recent.
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '@gridwatch/protocol';

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
  return constantTimeEqual(signature, signWebhook(secret, timestamp, body));
}
