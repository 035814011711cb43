// 企业微信 / 政务微信 group robot. The contact's `to` is the robot's key (from the group's robot
// settings); errcode 45009 (rate limit: 20 messages a minute per robot) and HTTP failures retry.
import { Type, type Static } from '@sinclair/typebox';
import { failure, type NotifyChannel } from '../../channel.ts';
import { errcodeOutcome, postJson } from '../../http.ts';
import { wecomBody, wecomUrl } from './request.ts';

export const WecomConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'https://qyapi.weixin.qq.com', description: 'API origin (政务微信: the deployment’s own host)' }),
    msgtype: Type.Union([Type.Literal('markdown'), Type.Literal('text')], { default: 'markdown' }),
  },
  { additionalProperties: false },
);
export type WecomConfig = Static<typeof WecomConfig>;

const RETRYABLE = [-1, 45009];

export const wecomChannel: NotifyChannel<WecomConfig> = {
  id: 'wecom',
  configSchema: WecomConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    return {
      channel: 'wecom',
      async send(message, contact, context) {
        try {
          const reply = await postJson(wecomUrl(config.endpoint, contact.to), wecomBody(message, contact, config.msgtype), context);
          return errcodeOutcome(reply, 'errcode', 'errmsg', RETRYABLE);
        } catch (err) {
          return failure(err);
        }
      },
    };
  },
};
