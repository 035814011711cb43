// Alibaba Cloud SingleCallByTts through the vendor's OpenAPI client against a local server that
// verifies the V3 signature independently (notify-aliyun-support.ts) and the call parameters.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { aliyunVoiceChannel, type AliyunVoiceConfig } from '../src/notify/channels/aliyun-voice/index.ts';
import { acsError, verifyAcs3 } from './notify-aliyun-support.ts';
import { context, sampleMessage, startVendor, type VendorServer } from './notify-support.ts';

const AK = 'LTAI5tGridWatchVoice';
const SECRET = 'gridwatchVoiceSecret00000000000';
let vendor: VendorServer;

function config(secretEnv: string): AliyunVoiceConfig {
  return {
    endpoint: new URL(vendor.origin).host,
    protocol: 'http',
    accessKeyId: { env: 'GW_TEST_VMS_AK' },
    accessKeySecret: { env: secretEnv },
    calledShowNumber: '057188773344',
    ttsCode: 'TTS_10001',
    ttsParams: { type: 'type', place: 'place' },
    playTimes: 2,
  };
}

before(async () => {
  Object.assign(process.env, { GW_TEST_VMS_AK: AK, GW_TEST_VMS_SECRET: SECRET, GW_TEST_VMS_WRONG: 'wrong-secret' });
  vendor = await startVendor(async (req) => {
    const problem = await verifyAcs3(req, { accessKeyId: AK, accessKeySecret: SECRET, action: 'SingleCallByTts', version: '2017-05-25' });
    if (problem) return acsError(problem);
    return { json: { Code: 'OK', Message: 'OK', RequestId: 'D9CB3933-9FE3-4870-BA8E-2BEE91B69D23', CallId: '116012354148^10281378****' } };
  });
});
after(() => vendor.close());

test('aliyun voice: a signed SingleCallByTts places the call with the TTS variables', async () => {
  const outcome = await aliyunVoiceChannel.create(config('GW_TEST_VMS_SECRET')).send(sampleMessage(), { channel: 'aliyun-voice', to: '13800000004' }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'OK', receipt: '116012354148^10281378****' });
  const q = vendor.requests.at(-1)?.url.searchParams;
  assert.equal(q?.get('CalledNumber'), '13800000004');
  assert.equal(q?.get('CalledShowNumber'), '057188773344');
  assert.equal(q?.get('TtsCode'), 'TTS_10001');
  assert.equal(q?.get('PlayTimes'), '2');
  assert.deepEqual(JSON.parse(q?.get('TtsParam') ?? ''), { type: '烟感', place: '华强小吃店' });
});

test('aliyun voice: a wrong secret is refused (SignatureDoesNotMatch), not retried', async () => {
  const outcome = await aliyunVoiceChannel.create(config('GW_TEST_VMS_WRONG')).send(sampleMessage(), { channel: 'aliyun-voice', to: '13800000004' }, context);
  assert.equal(outcome.retryable, false);
  assert.match(outcome.detail, /SignatureDoesNotMatch/);
});
