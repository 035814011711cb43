// Alibaba Cloud SMS through its SDK against a local server that verifies the V3 signature
// (notify-aliyun-support.ts) and the SendSms parameters as the API reference lists them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { aliyunSmsChannel, type AliyunSmsConfig } from '../src/notify/channels/aliyun-sms/index.ts';
import { acsError, verifyAcs3 } from './notify-aliyun-support.ts';
import { context, sampleMessage, startVendor, type VendorServer } from './notify-support.ts';

const AK = 'LTAI5tGridWatchTest';
const SECRET = 'gridwatchAliyunSecret0000000000';
let vendor: VendorServer;

function config(secretEnv: string): AliyunSmsConfig {
  return {
    endpoint: new URL(vendor.origin).host,
    protocol: 'http',
    accessKeyId: { env: 'GW_TEST_ALI_AK' },
    accessKeySecret: { env: secretEnv },
    signName: '网格守望',
    templateCode: 'SMS_154950909',
    templateParams: { level: 'level', place: 'place', url: 'link' },
  };
}

before(async () => {
  Object.assign(process.env, { GW_TEST_ALI_AK: AK, GW_TEST_ALI_SECRET: SECRET, GW_TEST_ALI_WRONG: 'not-the-secret' });
  vendor = await startVendor(async (req) => {
    if (req.method !== 'POST' || req.url.pathname !== '/') return { status: 404, json: { Code: 'InvalidAction.NotFound' } };
    const problem = await verifyAcs3(req, { accessKeyId: AK, accessKeySecret: SECRET, action: 'SendSms', version: '2017-05-25' });
    if (problem) return acsError(problem);
    const q = req.url.searchParams;
    if (!/^1\d{10}$/.test(q.get('PhoneNumbers') ?? '')) return { json: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: 'bad number', RequestId: 'r' } };
    if (!q.get('SignName') || !q.get('TemplateCode')) return { json: { Code: 'isv.SMS_SIGNATURE_ILLEGAL', Message: 'sign', RequestId: 'r' } };
    return { json: { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990' } };
  });
});
after(() => vendor.close());

test('aliyun sms: the SDK’s signed SendSms is accepted with the template variables as JSON', async () => {
  const outcome = await aliyunSmsChannel.create(config('GW_TEST_ALI_SECRET')).send(sampleMessage(), { channel: 'aliyun-sms', to: '+8613800000003' }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'OK', receipt: '900619746936498440^0' });
  const q = vendor.requests.at(-1)?.url.searchParams;
  assert.equal(q?.get('PhoneNumbers'), '13800000003');
  assert.equal(q?.get('SignName'), '网格守望');
  assert.equal(q?.get('TemplateCode'), 'SMS_154950909');
  assert.deepEqual(JSON.parse(q?.get('TemplateParam') ?? ''), { level: '一级', place: '华强小吃店', url: 'http://gw.local/ack/t' });
  assert.equal(q?.get('OutId'), 'inc-7/step-0/p-li/wecom');
});

test('aliyun sms: a wrong AccessKey secret is refused (SignatureDoesNotMatch), not retried', async () => {
  const outcome = await aliyunSmsChannel.create(config('GW_TEST_ALI_WRONG')).send(sampleMessage(), { channel: 'aliyun-sms', to: '13800000003' }, context);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.retryable, false);
  assert.match(outcome.detail, /SignatureDoesNotMatch/);
});
