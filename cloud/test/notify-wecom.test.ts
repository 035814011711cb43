// 企业微信 group robot against a local server that checks the request as the robot API documents
// it: POST /cgi-bin/webhook/send?key=…, JSON content type, msgtype markdown/text bodies.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { wecomChannel } from '../src/notify/channels/wecom/index.ts';
import { context, sampleMessage, startVendor, type VendorServer } from './notify-support.ts';

const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
let vendor: VendorServer;

before(async () => {
  vendor = await startVendor((req) => {
    if (req.method !== 'POST' || req.url.pathname !== '/cgi-bin/webhook/send') return { status: 404, json: {} };
    if (req.url.searchParams.get('key') !== KEY) return { json: { errcode: 93000, errmsg: 'invalid webhook url' } };
    if (!String(req.headers['content-type']).startsWith('application/json')) return { json: { errcode: 40008, errmsg: 'invalid message type' } };
    const body = JSON.parse(req.body) as { msgtype: string; markdown?: { content: string }; text?: { content: string } };
    const content = body.msgtype === 'markdown' ? body.markdown?.content : body.text?.content;
    if (!content) return { json: { errcode: 44004, errmsg: 'empty content' } };
    return { json: { errcode: 0, errmsg: 'ok' } };
  });
});
after(() => vendor.close());

test('wecom: a markdown message reaches the robot with the key in the URL', async () => {
  const sender = wecomChannel.create({ endpoint: vendor.origin, msgtype: 'markdown' });
  const outcome = await sender.send(sampleMessage(), { channel: 'wecom', to: KEY }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'errcode 0' });
  const last = vendor.requests.at(-1);
  assert.ok(last);
  assert.deepEqual(JSON.parse(last.body), { msgtype: 'markdown', markdown: { content: sampleMessage().markdown } });
});

test('wecom: text mode mentions the contact’s phones', async () => {
  const sender = wecomChannel.create({ endpoint: vendor.origin, msgtype: 'text' });
  const outcome = await sender.send(sampleMessage(), { channel: 'wecom', to: KEY, mention: ['13800000001'] }, context);
  assert.equal(outcome.ok, true);
  assert.deepEqual(JSON.parse(vendor.requests.at(-1)?.body ?? ''), { msgtype: 'text', text: { content: sampleMessage().text, mentioned_mobile_list: ['13800000001'] } });
});

test('wecom: a wrong key is refused by the robot and dead-lettered, not retried', async () => {
  const sender = wecomChannel.create({ endpoint: vendor.origin, msgtype: 'markdown' });
  const outcome = await sender.send(sampleMessage(), { channel: 'wecom', to: 'not-the-key' }, context);
  assert.deepEqual(outcome, { ok: false, retryable: false, detail: 'errcode 93000: invalid webhook url' });
});
