// Alibaba Cloud SMS through its own SDK (@alicloud/dysmsapi20170525). AccessKey from files or
// env; the endpoint is configurable (dysmsapi.aliyuncs.com, a regional or private host).
import * as dysms from '@alicloud/dysmsapi20170525';
import { Type, type Static } from '@sinclair/typebox';
import { AliyunAccess, aliyunBodyOutcome, aliyunConfig, aliyunFailure, aliyunKeys } from '../../aliyun.ts';
import type { NotifyChannel } from '../../channel.ts';
import { aliyunSendSms } from './request.ts';

export const AliyunSmsConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'dysmsapi.aliyuncs.com', description: 'API host[:port]' }),
    ...AliyunAccess,
    signName: Type.String({ minLength: 1 }),
    templateCode: Type.String({ minLength: 1, description: 'Approved template, e.g. SMS_154950909' }),
    templateParams: Type.Record(Type.String(), Type.String(), { description: 'Template variable → message param (level, type, place, address, deadline, link)' }),
  },
  { additionalProperties: false },
);
export type AliyunSmsConfig = Static<typeof AliyunSmsConfig>;

// A CommonJS module with `exports.default`: under NodeNext the class is `default.default`.
const Client = dysms.default.default;

export const aliyunSmsChannel: NotifyChannel<AliyunSmsConfig> = {
  id: 'aliyun-sms',
  configSchema: AliyunSmsConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const keys = aliyunKeys(config);
    return {
      channel: 'aliyun-sms',
      async send(message, contact, context) {
        try {
          const request = new dysms.SendSmsRequest(aliyunSendSms(message, contact, config));
          const client = new Client(aliyunConfig(keys, config, config.endpoint, context.timeoutMs));
          const reply = await client.sendSms(request);
          return aliyunBodyOutcome(reply.body ?? {}, reply.body?.bizId);
        } catch (err) {
          return aliyunFailure(err);
        }
      },
    };
  },
};
