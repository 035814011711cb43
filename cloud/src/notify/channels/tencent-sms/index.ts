// Tencent Cloud SMS through its own SDK (tencentcloud-sdk-nodejs-sms). Credentials (SecretId,
// SecretKey) from files or env; the endpoint is configurable (region or private-link host).
import { sms } from 'tencentcloud-sdk-nodejs-sms';
import { Type, type Static } from '@sinclair/typebox';
import type { NotifyChannel, NotifyOutcome } from '../../channel.ts';
import { pinnedAgent } from '../../connect.ts';
import { SecretRef, resolveSecret } from '../../secrets.ts';
import { TemplateParams } from '../../sms.ts';
import { sendSmsParams } from './request.ts';

export const TencentSmsConfig = Type.Object(
  {
    endpoint: Type.String({ default: 'sms.tencentcloudapi.com', description: 'API host[:port]; its first label must stay "sms" (the SDK signs for that service)' }),
    protocol: Type.Union([Type.Literal('https'), Type.Literal('http')], { default: 'https' }),
    address: Type.Optional(Type.String({ minLength: 1, description: 'Connect to this IP instead of resolving the endpoint (like curl --resolve)' })),
    region: Type.String({ default: 'ap-guangzhou' }),
    secretId: SecretRef,
    secretKey: SecretRef,
    sdkAppId: Type.String({ minLength: 1 }),
    signName: Type.String({ minLength: 1 }),
    templateId: Type.String({ minLength: 1 }),
    templateParams: TemplateParams,
  },
  { additionalProperties: false },
);
export type TencentSmsConfig = Static<typeof TencentSmsConfig>;

// Per-number codes worth a retry later (the rest, e.g. a bad number or template, are final).
const RETRYABLE_CODES = ['LimitExceeded.PhoneNumberThirtySecondLimit', 'InternalError.Timeout', 'InternalError.RequestTimeException'];

function sdkFailure(err: unknown): NotifyOutcome {
  const code = (err as { code?: unknown }).code;
  const detail = `${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`;
  const final = typeof code === 'string' && (code.startsWith('AuthFailure') || code.startsWith('InvalidParameter') || code.startsWith('FailedOperation'));
  return { ok: false, retryable: !final, detail };
}

export const tencentSmsChannel: NotifyChannel<TencentSmsConfig> = {
  id: 'tencent-sms',
  configSchema: TencentSmsConfig,
  readme: new URL('./README.md', import.meta.url),
  create(config) {
    const credential = { secretId: resolveSecret(config.secretId), secretKey: resolveSecret(config.secretKey) };
    const agent = pinnedAgent(config.protocol, config.address);
    return {
      channel: 'tencent-sms',
      async send(message, contact, context) {
        const client = new sms.v20210111.Client({
          credential,
          region: config.region,
          profile: { httpProfile: { endpoint: config.endpoint, protocol: `${config.protocol}://`, reqTimeout: Math.ceil(context.timeoutMs / 1000), ...(agent ? { agent } : {}) } },
        });
        try {
          const reply = await client.SendSms(sendSmsParams(message, contact, config));
          const status = reply.SendStatusSet?.[0];
          if (!status) return { ok: false, retryable: true, detail: 'no SendStatusSet in the reply' };
          if (status.Code === 'Ok') return { ok: true, retryable: false, detail: status.Message ?? 'Ok', receipt: status.SerialNo ?? reply.RequestId ?? '' };
          return { ok: false, retryable: RETRYABLE_CODES.includes(status.Code ?? ''), detail: `${status.Code}: ${status.Message}` };
        } catch (err) {
          return sdkFailure(err);
        }
      },
    };
  },
};
