// What the Alibaba Cloud channels (SMS, voice) share: the SDK client config and its runtime
// options. The SDKs sign with ACS3-HMAC-SHA256 (Alibaba Cloud's V3 request signature).
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { Type, type Static } from '@sinclair/typebox';
import type { NotifyOutcome } from './channel.ts';
import { SecretRef, resolveSecret } from './secrets.ts';

export const AliyunAccess = {
  protocol: Type.Union([Type.Literal('https'), Type.Literal('http')], { default: 'https' }),
  accessKeyId: SecretRef,
  accessKeySecret: SecretRef,
};
export interface AliyunAccess {
  protocol: Static<typeof AliyunAccess.protocol>;
  accessKeyId: SecretRef;
  accessKeySecret: SecretRef;
}

export interface AliyunKeys {
  accessKeyId: string;
  accessKeySecret: string;
}

export function aliyunKeys(access: AliyunAccess): AliyunKeys {
  return { accessKeyId: resolveSecret(access.accessKeyId), accessKeySecret: resolveSecret(access.accessKeySecret) };
}

/** One attempt per call (no retryOptions): our delivery loop owns retries and back-off. */
export function aliyunConfig(keys: AliyunKeys, access: AliyunAccess, endpoint: string, timeoutMs: number): $OpenApiUtil.Config {
  return new $OpenApiUtil.Config({ ...keys, endpoint, protocol: access.protocol, connectTimeout: timeoutMs, readTimeout: timeoutMs });
}

// Business codes (HTTP 200) that clear by themselves: flow control per number/minute/hour/day.
const RETRYABLE_BIZ = ['isv.BUSINESS_LIMIT_CONTROL', 'Throttling', 'Throttling.User', 'ServiceUnavailable'];

export function aliyunBodyOutcome(body: { code?: string; message?: string; requestId?: string }, receipt: string | undefined): NotifyOutcome {
  if (body.code === 'OK') return { ok: true, retryable: false, detail: body.message ?? 'OK', receipt: receipt ?? body.requestId ?? '' };
  return { ok: false, retryable: RETRYABLE_BIZ.includes(body.code ?? ''), detail: `${body.code}: ${body.message}` };
}

/** SDK exceptions: signature, key and parameter errors are final; 5xx and network errors retry. */
export function aliyunFailure(err: unknown): NotifyOutcome {
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  const detail = `${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`;
  const clientError = typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 && !RETRYABLE_BIZ.includes(String(code));
  return { ok: false, retryable: !clientError, detail };
}

