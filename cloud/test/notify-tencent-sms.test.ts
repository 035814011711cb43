// Tencent Cloud SMS through its SDK against a local server that verifies TC3-HMAC-SHA256 as the
// API 3.0 signing document describes it (canonical request → string to sign → derived key chain
// TC3+SecretKey → date → service → "tc3_request"), recomputed here with WebCrypto, independent of
// the SDK. The SDK connects to loopback through the channel's `address` pin, keeping the host name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tencentSmsChannel, type TencentSmsConfig } from '../src/notify/channels/tencent-sms/index.ts';
import { context, sampleMessage, startVendor, type VendorRequest, type VendorServer } from './notify-support.ts';

const SECRET_ID = 'AKIDgridwatchtest0000000000000000';
const SECRET_KEY = 'gridwatchTencentKey000000000000';
const enc = new TextEncoder();
let vendor: VendorServer;

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(message)));
}
async function sha256Hex(text: string): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', enc.encode(text))).toString('hex');
}

function fail(code: string, message: string): unknown {
  return { Response: { Error: { Code: code, Message: message }, RequestId: 'req-err' } };
}

async function verifyTc3(req: VendorRequest): Promise<string | null> {
  const auth = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization));
  if (!auth) return 'malformed Authorization';
  const [, id, date, service, signedHeaders = '', signature] = auth;
  const timestamp = String(req.headers['x-tc-timestamp']);
  if (id !== SECRET_ID) return 'unknown SecretId';
  if (service !== 'sms') return `service ${service}`;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return 'timestamp expired';
  if (new Date(Number(timestamp) * 1000).toISOString().slice(0, 10) !== date) return 'date does not match the timestamp';
  const header = (name: string): string => (name === 'host' ? String(req.headers.host).replace(/:\d+$/, '') : String(req.headers[name] ?? '')).trim().toLowerCase();
  const names = signedHeaders.split(';');
  if (!names.includes('content-type') || !names.includes('host')) return 'content-type and host must be signed';
  const canonical = ['POST', req.url.pathname, req.url.search.slice(1), names.map((n) => `${n}:${header(n)}\n`).join(''), signedHeaders, await sha256Hex(req.body)].join('\n');
  const stringToSign = ['TC3-HMAC-SHA256', timestamp, `${date}/${service}/tc3_request`, await sha256Hex(canonical)].join('\n');
  const kDate = await hmac(enc.encode(`TC3${SECRET_KEY}`), date ?? '');
  const kSigning = await hmac(await hmac(kDate, service ?? ''), 'tc3_request');
  return Buffer.from(await hmac(kSigning, stringToSign)).toString('hex') === signature ? null : 'signature mismatch';
}

async function answer(req: VendorRequest): Promise<unknown> {
  if (req.method !== 'POST' || req.url.pathname !== '/') return fail('UnsupportedOperation', 'POST / only');
  if (req.headers['x-tc-action'] !== 'SendSms' || req.headers['x-tc-version'] !== '2021-01-11' || req.headers['x-tc-region'] !== 'ap-guangzhou') return fail('InvalidAction', 'action/version/region');
  const problem = await verifyTc3(req);
  if (problem) return fail('AuthFailure.SignatureFailure', `The provided credentials could not be validated (${problem})`);
  const body = JSON.parse(req.body) as { PhoneNumberSet: string[]; SmsSdkAppId: string; SignName: string; TemplateId: string; TemplateParamSet: string[]; SessionContext: string };
  const phone = body.PhoneNumberSet[0] ?? '';
  return { Response: { SendStatusSet: [{ SerialNo: '5000:104571066915', PhoneNumber: phone, Fee: 1, SessionContext: body.SessionContext, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }], RequestId: 'req-1' } };
}

function config(keyEnv: string): TencentSmsConfig {
  const port = new URL(vendor.origin).port;
  return {
    endpoint: `sms.tencentcloudapi.com:${port}`,
    protocol: 'http',
    address: '127.0.0.1',
    region: 'ap-guangzhou',
    secretId: { env: 'GW_TEST_TC_ID' },
    secretKey: { env: keyEnv },
    sdkAppId: '1400006666',
    signName: '网格守望',
    templateId: '1110',
    templateParams: ['level', 'place', 'link'],
  };
}

before(async () => {
  Object.assign(process.env, { GW_TEST_TC_ID: SECRET_ID, GW_TEST_TC_KEY: SECRET_KEY, GW_TEST_TC_WRONG: 'not-the-key' });
  vendor = await startVendor(async (req) => ({ json: await answer(req) }));
});
after(() => vendor.close());

test('tencent sms: the SDK’s signed SendSms is accepted, params in template order', async () => {
  const outcome = await tencentSmsChannel.create(config('GW_TEST_TC_KEY')).send(sampleMessage(), { channel: 'tencent-sms', to: '13800000002' }, context);
  assert.deepEqual(outcome, { ok: true, retryable: false, detail: 'send success', receipt: '5000:104571066915' });
  const body = JSON.parse(vendor.requests.at(-1)?.body ?? '') as Record<string, unknown>;
  assert.deepEqual(body, {
    PhoneNumberSet: ['+8613800000002'],
    SmsSdkAppId: '1400006666',
    SignName: '网格守望',
    TemplateId: '1110',
    TemplateParamSet: ['一级', '华强小吃店', 'http://gw.local/ack/t'],
    SessionContext: 'inc-7/step-0/p-li/wecom',
  });
});

test('tencent sms: a wrong SecretKey fails the signature check and is not retried', async () => {
  const outcome = await tencentSmsChannel.create(config('GW_TEST_TC_WRONG')).send(sampleMessage(), { channel: 'tencent-sms', to: '13800000002' }, context);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.retryable, false);
  assert.match(outcome.detail, /AuthFailure\.SignatureFailure.*signature mismatch/);
});
