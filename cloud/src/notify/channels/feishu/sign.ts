// 飞书 custom bot with signature verification ("签名校验"): the HMAC-SHA256 KEY is
// timestamp + "\n" + secret and the message is empty; the base64 digest goes into the JSON body
// as `sign`, beside `timestamp` (epoch seconds, as a string). Feishu refuses one more than an hour
// off its clock.
import { createHmac } from 'node:crypto';

export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}
