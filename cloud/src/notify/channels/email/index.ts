// E-mail through nodemailer to the district's SMTP relay. The contact's `to` is the address.
// SMTP 4xx and connection failures are retried; 5xx (bad recipient, refused login) is final.
import nodemailer from 'nodemailer';
import { Type, type Static } from '@sinclair/typebox';
import type { NotifyChannel, NotifyOutcome } from '../../channel.ts';
import { SecretRef, resolveSecret } from '../../secrets.ts';
import { emailMessage } from './request.ts';

export const EmailConfig = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'SMTP relay host' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    secure: Type.Boolean({ default: false, description: 'TLS from the first byte (port 465); otherwise STARTTLS when offered' }),
    from: Type.String({ minLength: 3, description: 'Envelope and header sender, e.g. "GridWatch <alarm@example.gov.cn>"' }),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRef),
  },
  { additionalProperties: false },
);
export type EmailConfig = Static<typeof EmailConfig>;

function smtpOutcome(err: unknown): NotifyOutcome {
  const code = (err as { responseCode?: unknown }).responseCode;
  const detail = err instanceof Error ? err.message : String(err);
  return { ok: false, retryable: typeof code !== 'number' || code < 500, detail };
}

export const emailChannel: NotifyChannel<EmailConfig> = {
  id: 'email',
  configSchema: EmailConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const pass = config.password ? resolveSecret(config.password) : undefined;
    const auth = config.user && pass ? { user: config.user, pass } : undefined;
    return {
      channel: 'email',
      async send(message, contact, context) {
        const transport = nodemailer.createTransport({
          host: config.host,
          port: config.port,
          secure: config.secure,
          ...(auth ? { auth } : {}),
          connectionTimeout: context.timeoutMs,
          greetingTimeout: context.timeoutMs,
          socketTimeout: context.timeoutMs,
        });
        try {
          const info = (await transport.sendMail(emailMessage(message, contact, config.from))) as { messageId?: string; response?: string };
          return { ok: true, retryable: false, detail: info.response ?? 'accepted', ...(info.messageId ? { receipt: info.messageId } : {}) };
        } catch (err) {
          return smtpOutcome(err);
        } finally {
          transport.close();
        }
      },
    };
  },
};
