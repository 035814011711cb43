// The notification config is validated when loaded: defaults applied, typos and dangling
// references fail naming the path; each channel's settings are checked against its own schema.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { startConfiguredNotifications } from '../src/jobs/notifications.ts';
import { CloudMetrics } from '../src/metrics.ts';
import { DEFAULT_NOTIFY_CHANNELS } from '../src/notify/channels/index.ts';
import { parseNotifyConfig } from '../src/notify/config.ts';
import { migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';

const base = {
  version: 1,
  linkBaseUrl: 'https://gw.example',
  channels: { wecom: {} },
  people: [{ id: 'p', name: 'P', contacts: [{ channel: 'wecom', to: 'k' }] }],
  rosters: [{ unit: 'grid-g01', shifts: [{ role: 'grid_worker', people: ['p'], days: [1], from: '08:00', to: '20:00' }] }],
  chains: [{ name: 'l1', levels: [1], steps: [{ afterS: 0, tier: 'grid', channels: ['wecom'] }] }],
};

test('notify config: defaults are applied', () => {
  const config = parseNotifyConfig(base);
  assert.equal(config.timeZone, 'Asia/Shanghai');
  assert.equal(config.lang, 'zh-CN');
  assert.deepEqual(config.delivery.perRecipient, { max: 20, windowS: 600 });
  assert.deepEqual(config.social, { enabledTypes: [], contacts: [] });
});

test('notify config: an unknown key, a bad clock time, an unknown person and an unconfigured channel fail with the path', () => {
  assert.throws(() => parseNotifyConfig({ ...base, rosterz: [] }), /notify config: \/rosterz?: /);
  assert.throws(() => parseNotifyConfig({ ...base, rosters: [{ ...base.rosters[0], shifts: [{ ...base.rosters[0]?.shifts[0], from: '8:00' }] }] }), /\/rosters\/0\/shifts\/0\/from/);
  assert.throws(() => parseNotifyConfig({ ...base, rosters: [{ ...base.rosters[0], shifts: [{ ...base.rosters[0]?.shifts[0], people: ['nobody'] }] }] }), /unknown person nobody/);
  assert.throws(() => parseNotifyConfig({ ...base, channels: {} }), /wecom is used but not configured/);
});

test('notify channels: settings are checked against the channel’s schema; credentials only from file or env', () => {
  assert.deepEqual(DEFAULT_NOTIFY_CHANNELS.ids, ['wecom', 'dingtalk', 'feishu', 'tencent-sms', 'aliyun-sms', 'aliyun-voice', 'email']);
  assert.throws(() => DEFAULT_NOTIFY_CHANNELS.createSender('dingtalk', { secret: 'SECinline' }), /channels\.dingtalk\/secret/);
  assert.throws(() => DEFAULT_NOTIFY_CHANNELS.createSender('dingtalk', { secret: { env: 'GW_TEST_UNSET_VARIABLE' } }), /GW_TEST_UNSET_VARIABLE is not set/);
  assert.throws(() => DEFAULT_NOTIFY_CHANNELS.createSender('pager', {}), /unknown notification channel/);
  assert.equal(DEFAULT_NOTIFY_CHANNELS.createSender('wecom', {}).channel, 'wecom');
});

test('notify config: the cloud starts the job from GRIDWATCH_NOTIFY_CONFIG and refuses a bad file naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-notify-'));
  const store = await PgliteStore.open('memory://');
  try {
    await migrate(store);
    const good = join(dir, 'notify.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify(base));
    writeFileSync(bad, JSON.stringify({ ...base, chains: [{ name: 'x', levels: [9], steps: [] }] }));
    const options = { store, metrics: new CloudMetrics(), log: pino({ level: 'silent' }), everyMs: 1000 };
    const stop = await startConfiguredNotifications({ ...options, env: { GRIDWATCH_NOTIFY_CONFIG: good } });
    await stop();
    await assert.rejects(startConfiguredNotifications({ ...options, env: { GRIDWATCH_NOTIFY_CONFIG: bad } }), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: /chains/0/levels/0`));
    const off = await startConfiguredNotifications({ ...options, env: {} });
    await off();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
