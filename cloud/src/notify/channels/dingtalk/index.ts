// 钉钉 custom robot in signed mode. The contact's `to` is the robot's access_token; the robot's
// signing secret (SEC…) comes from a file or env. Body: msgtype markdown with @-mentions.
import { Type, type Static } from '@sinclair/typebox';
import { failure, type NotifyChannel, type NotifyContact, type NotifyMessage } from '../../channel.ts';
import { errcodeOutcome, postJson } from '../../http.ts';
import { SecretRef, resolveSecret } from '../../secrets.ts';
import { dingtalkSignedUrl } from './sign.ts';

export const DingtalkConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'https://oapi.dingtalk.com', description: 'API origin' }),
    secret: SecretRef,
  },
  { additionalProperties: false },
);
export type DingtalkConfig = Static<typeof DingtalkConfig>;

// 130101: sending too fast (20 a minute per robot); -1: system busy.
const RETRYABLE = [-1, 130101];

export function dingtalkBody(message: NotifyMessage, contact: NotifyContact): Record<string, unknown> {
  const mentions = contact.mention ?? [];
  const text = mentions.length ? `${message.markdown}\n\n${mentions.map((m) => `@${m}`).join(' ')}` : message.markdown;
  return { msgtype: 'markdown', markdown: { title: message.title, text }, at: { atMobiles: mentions, isAtAll: false } };
}

export const dingtalkChannel: NotifyChannel<DingtalkConfig> = {
  id: 'dingtalk',
  configSchema: DingtalkConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const secret = resolveSecret(config.secret);
    return {
      channel: 'dingtalk',
      async send(message, contact, context) {
        const webhook = `${new URL('/robot/send', config.endpoint).toString()}?access_token=${encodeURIComponent(contact.to)}`;
        try {
          const reply = await postJson(dingtalkSignedUrl(webhook, secret, context.now()), dingtalkBody(message, contact), context);
          return errcodeOutcome(reply, 'errcode', 'errmsg', RETRYABLE);
        } catch (err) {
          return failure(err);
        }
      },
    };
  },
};
