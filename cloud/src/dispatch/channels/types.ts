// The seam between the dispatch queue and the ways a message leaves the cloud. A channel is one
// folder exporting one descriptor; the delivery job claims due messages, picks the channel by the
// consumer's push target, and settles the message by the outcome. Channels never touch the queue.
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';

/** What is delivered: the dispatch message as consumers see it (the same JSON the pull API gives). */
export interface DeliveryMessage {
  id: number;
  consumerId: string;
  incidentId: number;
  kind: 'dispatch' | 'escalation' | 'update';
  unitId: string | null;
  /** How many times the message has been handed out, this attempt included. */
  deliveries: number;
  /** The incident snapshot taken when the message was queued. */
  incident: unknown;
}

/** Where to: the consumer's push address (its URL's scheme picks the channel) and its secret. */
export interface DeliveryTarget {
  consumerId: string;
  url: string;
  secret: string | null;
}

export interface DeliveryContext {
  log: Logger;
  /** Give up on one attempt after this long (then retried with back-off). */
  timeoutMs: number;
}

/** ok: delivered. Otherwise retryable decides between back-off and dead-lettering at once. */
export interface DeliveryOutcome {
  ok: boolean;
  retryable: boolean;
  /** What happened, for the message's last_error and the log (e.g. "HTTP 503"). */
  detail: string;
}

export interface ChannelDescriptor {
  /** Stable name, used in logs and metrics. */
  readonly id: string;
  /** URL schemes of the push targets this channel serves (a consumer's webhookUrl `https://…`). */
  readonly schemes: readonly string[];
  /** The target this channel accepts; a target failing it is dead-lettered, not retried. */
  readonly configSchema: TSchema;
  /** The channel's README (what it sends, how receivers verify it). */
  readonly readme: URL;
  deliver(message: DeliveryMessage, target: DeliveryTarget, context: DeliveryContext): Promise<DeliveryOutcome>;
}
