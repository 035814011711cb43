// 钉钉 signed robot against a local server that verifies the request as DingTalk documents it:
// access_token, timestamp (ms, within an hour) and sign = urlencode(base64(HmacSHA256(secret,
// timestamp + "\n" + secret))) in the query, recomputed here with WebCrypto, independent of sign.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dingtalkChannel } from '../src/notify/channels/dingtalk/index.ts';
import { context, sampleMessage, startVendor, type VendorRequest, type VendorServer } from './notify-support.ts';

const TOKEN = 'b7a3c1d2e4f5';
const SECRET = 'SEC1f2e3d4c5b6a79880716253443526170819a0b1c2d3e4f5a6b7c8d9e0f1a2b';
let vendor: VendorServer;

async function expectedSign(secret: string, timestamp: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}\n${secret}`));
  return Buffer.from(mac).toString('base64');
}

async function verify(req: VendorRequest): Promise<{ errcode: number; errmsg: string }> {
  if (req.method !== 'POST' || req.url.pathname !== '/robot/send') return { errcode: 404, errmsg: 'not found' };
  if (req.url.searchParams.get('access_token') !== TOKEN) return { errcode: 300001, errmsg: 'token is not exist' };
  const timestamp = req.url.searchParams.get('timestamp') ?? '';
  if (!/^\d{13}$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > 3_600_000) return { errcode: 310000, errmsg: 'invalid timestamp' };
  // The raw query must carry the URL-encoded base64 (+ / = escaped), as the docs demand.
  const rawSign = /[?&]sign=([^&]*)/.exec(req.url.search)?.[1] ?? '';
  if (rawSign !== encodeURIComponent(await expectedSign(SECRET, timestamp))) return { errcode: 310000, errmsg: 'sign not match' };
  const body = JSON.parse(req.body) as { msgtype?: string; markdown?: { title?: string; text?: string } };
  if (body.msgtype !== 'markdown' || !body.markdown?.title || !body.markdown.text) return { errcode: 40035, errmsg: 'missing param' };
  return { errcode: 0, errmsg: 'ok' };
}

before(async () => {
  process.env.GW_TEST_DINGTALK_SECRET = SECRET;
  vendor = await startVendor(async (req) => ({ json: await verify(req) }));
});
after(() => vendor.close());

test('dingtalk: a signed markdown message is accepted, mentions in text and at', async () => {
  const sender = dingtalkChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_DINGTALK_SECRET' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'dingtalk', to: TOKEN, mention: ['13800000001'] }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'errcode 0' });
  const body = JSON.parse(vendor.requests.at(-1)?.body ?? '') as { at: unknown; markdown: { text: string } };
  assert.deepEqual(body.at, { atMobiles: ['13800000001'], isAtAll: false });
  assert.match(body.markdown.text, /@13800000001$/);
});

test('dingtalk: a wrong secret makes the robot refuse the signature; not retried', async () => {
  process.env.GW_TEST_DINGTALK_WRONG = 'SECwrong';
  const sender = dingtalkChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_DINGTALK_WRONG' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'dingtalk', to: TOKEN }, context);
  assert.deepEqual(outcome, { ok: false, retryable: false, detail: 'errcode 310000: sign not match' });
});

test('dingtalk: a clock more than an hour off is refused', async () => {
  const sender = dingtalkChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_DINGTALK_SECRET' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'dingtalk', to: TOKEN }, { ...context, now: () => Date.now() - 2 * 3_600_000 });
  assert.equal(outcome.ok, false);
  assert.match(outcome.detail, /310000/);
});
