// Issue #14 "Done when", end to end on a fast clock: a level-1 smoke alarm at an address with a
// shop-owner contact notifies the on-duty grid worker by chat and SMS at once and the shop owner
// by SMS; unacknowledged, the grid worker is called by voice after 2 min and the community head
// notified after 5; the grid worker's link acknowledges it and the chain stops; the audit trail
// lists every message with channel, recipient and outcome. Vendors are local servers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startCloud, type Cloud } from '../src/index.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { auditTrail, getIncident } from '../src/incidents/incident.ts';
import { Outcome } from '../src/incidents/outcome.ts';
import { notificationsJob } from '../src/jobs/notifications.ts';
import type { PeriodicJob } from '../src/jobs/job.ts';
import { linkKey } from '../src/notify/ack.ts';
import { parseNotifyConfig, type NotifyConfig } from '../src/notify/config.ts';
import { cancelStopped, planNotifications } from '../src/notify/plan.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { alarmEvent, createTempDatabase, eventually, type TempDatabase } from './helpers.ts';
import { startVendor, type VendorServer } from './notify-support.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const gateway = { gatewayId: 'gw-notify', site: 'sz-futian' };
const ALL_DAY = { days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '00:00', holidays: 'also' as const };
let db: TempDatabase;
let cloud: Cloud;
let chat: VendorServer;
let sms: VendorServer;
let voice: VendorServer;

function smsTo(server: VendorServer): string[] {
  return server.requests.map((r) => (JSON.parse(r.body) as { PhoneNumberSet: string[] }).PhoneNumberSet[0] ?? '');
}
const chatKeys = (): string[] => chat.requests.map((r) => r.url.searchParams.get('key') ?? '');

function notifyConfig(): NotifyConfig {
  Object.assign(process.env, { GW_E2E_TC_ID: 'AKIDe2e', GW_E2E_TC_KEY: 'e2e-key', GW_E2E_ALI_AK: 'LTAIe2e', GW_E2E_ALI_SECRET: 'e2e-secret' });
  return parseNotifyConfig({
    version: 1,
    linkBaseUrl: cloud.httpUrl,
    delivery: { backoffMs: 10 },
    channels: {
      wecom: { endpoint: chat.origin },
      'tencent-sms': {
        endpoint: `sms.tencentcloudapi.com:${new URL(sms.origin).port}`, protocol: 'http', address: '127.0.0.1',
        secretId: { env: 'GW_E2E_TC_ID' }, secretKey: { env: 'GW_E2E_TC_KEY' }, sdkAppId: '1400000001', signName: '网格守望', templateId: '1', templateParams: ['level', 'place', 'link'],
      },
      'aliyun-voice': { endpoint: new URL(voice.origin).host, protocol: 'http', accessKeyId: { env: 'GW_E2E_ALI_AK' }, accessKeySecret: { env: 'GW_E2E_ALI_SECRET' }, calledShowNumber: '057100000000', ttsCode: 'TTS_1', ttsParams: { type: 'type', place: 'place' } },
    },
    people: [
      { id: 'p-wang', name: '王网格员', contacts: [{ channel: 'wecom', to: 'key-wang' }, { channel: 'tencent-sms', to: '13800000001' }, { channel: 'aliyun-voice', to: '13800000001' }] },
      { id: 'p-li', name: '李社区书记', contacts: [{ channel: 'wecom', to: 'key-li' }, { channel: 'tencent-sms', to: '13800000002' }] },
      { id: 'p-zhao', name: '赵街道', contacts: [{ channel: 'tencent-sms', to: '13800000003' }] },
    ],
    rosters: [
      { unit: 'grid-g01', shifts: [{ role: 'grid_worker', people: ['p-wang'], ...ALL_DAY }] },
      { unit: 'comm-c01', shifts: [{ role: 'community_head', people: ['p-li'], ...ALL_DAY }] },
      { unit: 'street-s01', shifts: [{ role: 'street_head', people: ['p-zhao'], ...ALL_DAY }] },
    ],
    chains: [
      {
        name: 'level-1 life safety',
        levels: [1],
        steps: [
          { afterS: 0, tier: 'grid', channels: ['wecom', 'tencent-sms'] },
          { afterS: 120, tier: 'grid', channels: ['aliyun-voice'] },
          { afterS: 300, tier: 'community', channels: ['wecom', 'tencent-sms'] },
          { afterS: 600, tier: 'street', channels: ['tencent-sms'] },
        ],
      },
    ],
    social: { enabledTypes: ['smoke'], contacts: [{ addressId: 'FT-0001-0203', id: 'c-shop', name: '华强小吃店店主', role: 'shop_owner', channel: 'tencent-sms', to: '13900000009', alarmTypes: ['smoke'] }] },
  });
}

before(async () => {
  chat = await startVendor(() => ({ json: { errcode: 0, errmsg: 'ok' } }));
  sms = await startVendor((req) => {
    const body = JSON.parse(req.body) as { PhoneNumberSet: string[]; SessionContext: string };
    return { json: { Response: { SendStatusSet: [{ SerialNo: `sn-${sms.requests.length}`, PhoneNumber: body.PhoneNumberSet[0], Fee: 1, SessionContext: body.SessionContext, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }], RequestId: 'r' } } };
  });
  voice = await startVendor(() => ({ json: { Code: 'OK', Message: 'OK', RequestId: 'r', CallId: 'call-1' } }));
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  await new GatewayRegistry(cloud.store).addGateway({ ...gateway, secret: 'notify-e2e-secret-1' });
  await cloud.store.transaction(async (tx) => {
    await importAddressesCsv(tx, fixture('addresses.csv'));
    await importUnitsCsv(tx, fixture('units.csv'));
    await importRulesCsv(tx, fixture('rules.csv'));
  });
});
after(async () => {
  await cloud.stop();
  await db.drop();
  await Promise.all([chat.close(), sms.close(), voice.close()]);
});

test('e2e: a level-1 smoke alarm walks its chain on a fast clock until the grid worker acknowledges from the link', async () => {
  const event = alarmEvent(gateway.gatewayId, 1, { level: 1, alarmType: 'smoke', addressId: 'FT-0001-0203' });
  await cloud.store.transaction((tx) => applyEvents(tx, gateway, [event], DEFAULT_ENGINE, new Outcome()));
  const [row] = await cloud.store.query<{ incident_id: string }>('SELECT incident_id FROM events WHERE event_id = $1', [event.id]);
  const id = Number(row?.incident_id);
  const config = notifyConfig();
  let t = Date.now();
  const job: PeriodicJob = notificationsJob({ store: cloud.store, config, linkKey: await linkKey(cloud.store), metrics: cloud.metrics, log: pino({ level: 'silent' }), everyMs: 30, now: () => t });
  job.start();
  try {
    // At once: the grid worker by chat and SMS, the shop owner by SMS; no voice, no community yet.
    await eventually('grid worker chat + SMS, shop owner SMS', () => chatKeys().length === 1 && smsTo(sms).length === 2);
    assert.deepEqual(chatKeys(), ['key-wang']);
    assert.deepEqual(smsTo(sms).sort(), ['+8613800000001', '+8613900000009']);
    assert.equal(voice.requests.length, 0);
    // 2 minutes unacknowledged: the voice call.
    t += 121_000;
    await eventually('the voice call', () => voice.requests.length === 1);
    assert.equal(voice.requests[0]?.url.searchParams.get('CalledNumber'), '13800000001');
    assert.equal(chatKeys().length, 1);
    // 5 minutes: the community head by chat and SMS.
    t += 180_000;
    await eventually('community head chat + SMS', () => chatKeys().length === 2 && smsTo(sms).length === 3);
    assert.deepEqual(chatKeys(), ['key-wang', 'key-li']);
    assert.equal(smsTo(sms)[2], '+8613800000002');
    // The grid worker's SMS carries the link; 确认 from it.
    const wangSms = sms.requests.find((r) => r.body.includes('+8613800000001'));
    const link = (JSON.parse(wangSms?.body ?? '{}') as { TemplateParamSet: string[] }).TemplateParamSet[2] ?? '';
    assert.ok(link.startsWith(`${cloud.httpUrl}/ack/`), link);
    assert.equal((await fetch(`${link}/acknowledge`, { method: 'POST' })).status, 200);
  } finally {
    await job.stop();
  }
  assert.equal((await getIncident(cloud.store, id))?.status, 'acknowledged');
  // The chain stops: past the street step, a planning round adds nothing and nothing is pending.
  t += 400_000;
  await cancelStopped(cloud.store);
  assert.equal(await planNotifications(cloud.store, config, t, 3_600_000), 0);
  const pending = await cloud.store.query("SELECT id FROM notifications WHERE incident_id = $1 AND status = 'pending'", [id]);
  assert.equal(pending.length, 0);
  assert.equal(smsTo(sms).length, 3);

  const trail = await auditTrail(cloud.store, id);
  const sent = trail.filter((a) => a.action === 'notify').map((a) => /^notify (\S+) → (\S+) \((\S+), /.exec(a.note)?.slice(1, 4).join(' ') + (a.note.includes(': sent — ') ? ' sent' : ' NOT SENT'));
  assert.deepEqual(sent.sort(), [
    'aliyun-voice p-wang grid_worker sent',
    'tencent-sms c-shop shop_owner sent',
    'tencent-sms p-li community_head sent',
    'tencent-sms p-wang grid_worker sent',
    'wecom p-li community_head sent',
    'wecom p-wang grid_worker sent',
  ]);
  const ack = trail.find((a) => a.action === 'acknowledge');
  assert.deepEqual({ actor: ack?.actor, source: ack?.source }, { actor: 'p-wang', source: 'link:tencent-sms' });
  const metrics = await cloud.metrics.registry.getSingleMetricAsString('gridwatch_notifications_total');
  assert.match(metrics, /gridwatch_notifications_total\{channel="tencent-sms",result="sent"\} 3/);
});
