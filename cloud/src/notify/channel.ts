// The seam between notification (person-addressed messages: a grid worker's phone, a group robot,
// a shop owner's SMS) and the vendors that carry them. The dispatch channels
// (dispatch/channels/) deliver queue rows to machine consumers by URL scheme; a notification is
// one rendered message to one contact of one person, so it has its own small interface. A channel
// is one folder under notify/channels/ exporting one descriptor, registered in channels/index.ts.
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';

/** One rendered message (notify/templates.ts) for one incident. */
export interface NotifyMessage {
  /** Stable per (incident, step, recipient, channel): vendors and receivers deduplicate by it. */
  key: string;
  incidentId: number;
  level: number;
  title: string;
  /** Plain text (SMS-sized text channels, e-mail body). */
  text: string;
  /** Markdown for the chat robots. */
  markdown: string;
  /** The signed acknowledge link, when the message carries one. */
  link: string | null;
  /** Named values for template-based vendors (SMS, voice): the vendor fills its approved template. */
  params: Record<string, string>;
}

/** Where to: the contact's address in the channel's own vocabulary (robot URL, phone, e-mail). */
export interface NotifyContact {
  channel: string;
  to: string;
  /** Phones to @-mention in a group robot message. */
  mention?: string[];
}

export interface NotifyContext {
  log: Logger;
  /** Give up on one attempt after this long (then retried with back-off). */
  timeoutMs: number;
  /** The injectable clock: epoch milliseconds (vendors sign timestamps). */
  now: () => number;
}

/** ok: the vendor accepted it. Otherwise retryable decides between back-off and dead-lettering. */
export interface NotifyOutcome {
  ok: boolean;
  retryable: boolean;
  /** What happened (e.g. "errcode 310000: sign not match"), for the audit trail and the log. */
  detail: string;
  /** The vendor's receipt (message id, request id), when it gives one. */
  receipt?: string;
}

/** A configured channel: the descriptor bound to its credentials, ready to send. */
export interface NotifySender {
  readonly channel: string;
  send(message: NotifyMessage, contact: NotifyContact, context: NotifyContext): Promise<NotifyOutcome>;
}

export interface NotifyChannel<Config = unknown> {
  /** Stable name: contacts, chains, logs and metrics refer to it. */
  readonly id: string;
  /** The channel's settings (endpoint, credential references), validated when the config loads. */
  readonly configSchema: TSchema;
  /** The channel's README (what it sends, credentials, which failures are retried). */
  readonly readme: URL;
  /** Binds the validated settings, reading its credentials (notify/secrets.ts) once, here. */
  create(config: Config): NotifySender;
}

/** Network errors and timeouts are worth retrying; the text goes into the audit row. */
export function failure(err: unknown): NotifyOutcome {
  return { ok: false, retryable: true, detail: err instanceof Error ? err.message : String(err) };
}
