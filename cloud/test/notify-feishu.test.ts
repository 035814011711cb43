// 飞书 signed bot against a local server that verifies the request as Feishu documents it: the
// hook path, timestamp (seconds, within an hour) and sign = base64(HmacSHA256(key = timestamp +
// "\n" + secret, message = "")) in the JSON body, recomputed here with WebCrypto.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { feishuChannel } from '../src/notify/channels/feishu/index.ts';
import { context, sampleMessage, startVendor, type VendorRequest, type VendorServer } from './notify-support.ts';

const HOOK = '2b1c9f3e-aaaa-4bbb-8ccc-1d2e3f4a5b6c';
const SECRET = 'mhnwKfW0dZpX3vzq9rCcbe';
const SIGN_FAIL = { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' };
let vendor: VendorServer;

async function expectedSign(secret: string, timestamp: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(`${timestamp}\n${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return Buffer.from(await crypto.subtle.sign('HMAC', key, new Uint8Array(0))).toString('base64');
}

async function verify(req: VendorRequest): Promise<{ code: number; msg: string }> {
  if (req.method !== 'POST' || req.url.pathname !== `/open-apis/bot/v2/hook/${HOOK}`) return { code: 19001, msg: 'param invalid: incoming webhook access token invalid' };
  const body = JSON.parse(req.body) as { timestamp?: string; sign?: string; msg_type?: string; content?: { post?: { zh_cn?: { title?: string; content?: unknown[] } } } };
  if (typeof body.timestamp !== 'string' || !/^\d{10}$/.test(body.timestamp)) return SIGN_FAIL;
  if (Math.abs(Date.now() / 1000 - Number(body.timestamp)) > 3600) return SIGN_FAIL;
  if (body.sign !== (await expectedSign(SECRET, body.timestamp))) return SIGN_FAIL;
  if (body.msg_type !== 'post' || !body.content?.post?.zh_cn?.title || !body.content.post.zh_cn.content?.length) return { code: 9499, msg: 'Bad Request' };
  return { code: 0, msg: 'success' };
}

before(async () => {
  process.env.GW_TEST_FEISHU_SECRET = SECRET;
  process.env.GW_TEST_FEISHU_WRONG = 'not-the-secret';
  vendor = await startVendor(async (req) => ({ json: await verify(req) }));
});
after(() => vendor.close());

test('feishu: a signed post message is accepted and carries the acknowledge link', async () => {
  const sender = feishuChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_FEISHU_SECRET' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'feishu', to: HOOK }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'code 0' });
  assert.match(vendor.requests.at(-1)?.body ?? '', /"href":"http:\/\/gw\.local\/ack\/t"/);
});

test('feishu: a wrong secret is refused with 19021 and dead-lettered', async () => {
  const sender = feishuChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_FEISHU_WRONG' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'feishu', to: HOOK }, context);
  assert.deepEqual(outcome, { ok: false, retryable: false, detail: `code 19021: ${SIGN_FAIL.msg}` });
});

test('feishu: a stale timestamp is refused', async () => {
  const sender = feishuChannel.create({ endpoint: vendor.origin, secret: { env: 'GW_TEST_FEISHU_SECRET' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'feishu', to: HOOK }, { ...context, now: () => Date.now() - 7_200_000 });
  assert.match(outcome.detail, /19021/);
});
