// 飞书 custom bot with signature. The contact's `to` is the hook id (the last path segment of the
// bot's webhook URL); the bot's signing secret comes from a file or env. Body: a `post` (rich
// text) message with a title, the text and the acknowledge link.
import { Type, type Static } from '@sinclair/typebox';
import { failure, type NotifyChannel, type NotifyMessage } from '../../channel.ts';
import { errcodeOutcome, postJson } from '../../http.ts';
import { SecretRef, resolveSecret } from '../../secrets.ts';
import { feishuSign } from './sign.ts';

export const FeishuConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'https://open.feishu.cn', description: 'API origin (Lark: https://open.larksuite.com)' }),
    secret: SecretRef,
  },
  { additionalProperties: false },
);
export type FeishuConfig = Static<typeof FeishuConfig>;

// 11232: frequency limited; 9499: bad request shape is not retryable; 19021: signature.
const RETRYABLE = [11232];

export function feishuContent(message: NotifyMessage): Record<string, unknown> {
  const line: Record<string, string>[] = [{ tag: 'text', text: message.text }];
  const rows: Record<string, string>[][] = [line];
  if (message.link) rows.push([{ tag: 'a', text: '确认 / 到场 / 误报', href: message.link }]);
  return { post: { zh_cn: { title: message.title, content: rows } } };
}

export const feishuChannel: NotifyChannel<FeishuConfig> = {
  id: 'feishu',
  configSchema: FeishuConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const secret = resolveSecret(config.secret);
    return {
      channel: 'feishu',
      async send(message, contact, context) {
        const timestamp = Math.floor(context.now() / 1000);
        const body = { timestamp: String(timestamp), sign: feishuSign(secret, timestamp), msg_type: 'post', content: feishuContent(message) };
        try {
          const reply = await postJson(new URL(`/open-apis/bot/v2/hook/${encodeURIComponent(contact.to)}`, config.endpoint).toString(), body, context);
          return errcodeOutcome(reply, 'code', 'msg', RETRYABLE);
        } catch (err) {
          return failure(err);
        }
      },
    };
  },
};
