// 钉钉 custom robot, signed mode ("加签"): string to sign = timestamp + "\n" + secret, HmacSHA256
// keyed with the secret, base64, then URL-encoded, appended to the webhook URL as
// `&timestamp=…&sign=…`. The timestamp is epoch milliseconds; DingTalk refuses one more than an
// hour off its clock.
import { createHmac } from 'node:crypto';

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The webhook URL (carrying access_token) with the timestamp and the signature appended. */
export function dingtalkSignedUrl(webhook: string, secret: string, timestampMs: number): string {
  const sign = encodeURIComponent(dingtalkSign(secret, timestampMs));
  return `${webhook}${webhook.includes('?') ? '&' : '?'}timestamp=${timestampMs}&sign=${sign}`;
}
