// Webhook channel: a POST of the dispatch message as JSON to the consumer's http(s) URL, signed
// (sign.ts). Any failure (network, timeout, non-2xx) is retryable: the delivery job backs off and
// dead-letters after the attempt limit.
import { Type } from '@sinclair/typebox';
import type { ChannelDescriptor } from '../types.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './sign.ts';

/** At most this much of a receiver's answer is read: its body is not used, only its status. */
const MAX_RESPONSE_BYTES = 64 * 1024;

async function drainBounded(res: Response, maxBytes: number): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
    if (read >= maxBytes) return void (await reader.cancel());
  }
}

/**
 * Test seam only (the cloud uses webhookChannel): the attack suite builds a channel with a
 * protection off to show its case can fail (test/security/webhook.test.ts).
 */
export interface WebhookSafety {
  redirect: 'manual' | 'follow';
  maxResponseBytes: number;
}

export function createWebhookChannel(safety: WebhookSafety = { redirect: 'manual', maxResponseBytes: MAX_RESPONSE_BYTES }): ChannelDescriptor {
  return {
    id: 'webhook',
    schemes: ['http', 'https'],
    configSchema: Type.Object({ url: Type.String({ format: 'uri' }), secret: Type.String({ minLength: 1, description: 'The consumer’s webhook secret (HMAC key)' }) }),
    readme: new URL('./README.md', import.meta.url),
    async deliver(message, target, context) {
      const body = JSON.stringify(message);
      const timestamp = String(Date.now());
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signWebhook(target.secret ?? '', timestamp, body),
            [DELIVERY_HEADER]: String(message.id),
          },
          body,
          signal: AbortSignal.timeout(context.timeoutMs),
          // A redirect is not followed (issue 11): the configured URL is the only place the signed
          // message may go; a 3xx counts as a failed delivery.
          redirect: safety.redirect,
        });
        await drainBounded(res, safety.maxResponseBytes).catch(() => undefined);
        if (res.status >= 300 && res.status < 400) return { ok: false, retryable: true, detail: `HTTP ${res.status}: redirects are not followed` };
        return res.ok ? { ok: true, retryable: false, detail: `HTTP ${res.status}` } : { ok: false, retryable: true, detail: `HTTP ${res.status}` };
      } catch (err) {
        return { ok: false, retryable: true, detail: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

export const webhookChannel: ChannelDescriptor = createWebhookChannel();
