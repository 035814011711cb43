// Voice call for level-1 alarms: Alibaba Cloud SingleCallByTts. The contact's `to` is the phone.
// Accepted means the call was placed (CallId is the receipt); whether it was answered arrives in
// the vendor's call receipt, which is not consumed here (docs/NOTIFICATIONS.md).
import OpenApi, { $OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { Type, type Static } from '@sinclair/typebox';
import { AliyunAccess, aliyunBodyOutcome, aliyunConfig, aliyunFailure, aliyunKeys } from '../../aliyun.ts';
import type { NotifyChannel } from '../../channel.ts';
import { singleCallByTtsQuery } from './request.ts';

export const AliyunVoiceConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'dyvmsapi.aliyuncs.com', description: 'API host[:port]' }),
    ...AliyunAccess,
    calledShowNumber: Type.String({ minLength: 1, description: 'The caller number bought for the account' }),
    ttsCode: Type.String({ minLength: 1, description: 'Approved TTS template, e.g. TTS_10001' }),
    ttsParams: Type.Record(Type.String(), Type.String(), { description: 'Template variable → message param' }),
    playTimes: Type.Integer({ minimum: 1, maximum: 3, default: 2 }),
  },
  { additionalProperties: false },
);
export type AliyunVoiceConfig = Static<typeof AliyunVoiceConfig>;

// CommonJS with `exports.default`: under NodeNext the client class is `default.default`.
const Client = OpenApi.default;

const SINGLE_CALL_BY_TTS = new $OpenApiUtil.Params({
  action: 'SingleCallByTts',
  version: '2017-05-25',
  protocol: 'HTTPS',
  pathname: '/',
  method: 'POST',
  authType: 'AK',
  style: 'RPC',
  reqBodyType: 'formData',
  bodyType: 'json',
});

export const aliyunVoiceChannel: NotifyChannel<AliyunVoiceConfig> = {
  id: 'aliyun-voice',
  configSchema: AliyunVoiceConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const keys = aliyunKeys(config);
    return {
      channel: 'aliyun-voice',
      async send(message, contact, context) {
        try {
          const client = new Client(aliyunConfig(keys, config, config.endpoint, context.timeoutMs));
          const request = new $OpenApiUtil.OpenApiRequest({ query: $OpenApiUtil.default.query(singleCallByTtsQuery(message, contact, config)) });
          const reply = (await client.callApi(SINGLE_CALL_BY_TTS, request, new RuntimeOptions({}))) as { body?: { Code?: string; Message?: string; RequestId?: string; CallId?: string } };
          const body = reply.body ?? {};
          return aliyunBodyOutcome({ code: body.Code, message: body.Message, requestId: body.RequestId }, body.CallId);
        } catch (err) {
          return aliyunFailure(err);
        }
      },
    };
  },
};
