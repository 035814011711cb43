// The commissioning report's rule sentences: every rule kind prints its actual condition (values
// with the point's unit, comparison, deadband, delays, heartbeat interval, combination members)
// in zh-CN and en, and "undefined" never appears — also over every bundled profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles, parseProfile, RULE_KINDS, type Profile } from '@gridwatch/firmware-profiles';
import { describeRule } from '../src/cli/render/rules.ts';
import { reportDevice, reportMarkdown } from '../src/cli/render/report.ts';
import { LANGS } from '../src/cli/render/i18n.ts';

const profile = parseProfile(
  {
    id: 'test/every-rule',
    version: '1.0.0',
    name: 'Every rule kind',
    class: 'gas_detector',
    transport: 'mqtt',
    payload: { format: 'json' },
    points: [
      { name: 'gas', path: 'gas', type: 'number', unit: 'percent_lel' },
      { name: 'temp', path: 'temp', type: 'number', unit: 'celsius' },
      { name: 'volume', path: 'volume', type: 'number', unit: 'cubic_metre' },
      { name: 'flow', path: 'flow', type: 'number', unit: 'cubic_metre_per_hour' },
      { name: 'alarm', path: 'alarm', type: 'boolean', unit: 'none' },
    ],
    heartbeatSeconds: 60,
    rules: [
      { kind: 'state', point: 'alarm', alarmType: 'smoke', level: 1, reason: 'alarm bit', whenValue: true, latching: true },
      { kind: 'threshold', point: 'gas', alarmType: 'gas_high', level: 1, reason: 'gas', op: '>=', limit: 50, deadband: 3, onDelaySeconds: 5, offDelaySeconds: 30 },
      { kind: 'threshold', point: 'temp', alarmType: 'cold', level: 3, reason: 'cold', op: '<=', limit: 2, deadband: 1 },
      { kind: 'rate', point: 'temp', alarmType: 'temperature_rising', level: 2, reason: 'rising', direction: 'rise', delta: 8, windowSeconds: 60 },
      { kind: 'inactivity', point: 'volume', alarmType: 'welfare_check', level: 2, reason: 'no use', minDelta: 0.01, windowSeconds: 43200 },
      { kind: 'continuous', point: 'flow', alarmType: 'suspected_leak', level: 3, reason: 'leak', above: 0.1, slotSeconds: 1800, windowSeconds: 86400 },
      { kind: 'heartbeat', alarmType: 'device_offline', level: 3, reason: 'silent', missed: 3 },
      { kind: 'combination', alarmType: 'fire_confirmed', level: 1, reason: 'both', all: ['smoke', 'temperature_rising'] },
    ],
  },
  'every-rule.yaml',
);

const expected: Record<string, Record<(typeof LANGS)[number], RegExp>> = {
  smoke: { en: /^smoke \(L1\): raise while alarm is true; latching/, 'zh-CN': /^smoke \(1级\): 当 alarm 为 true 时告警；锁存/ },
  gas_high: {
    en: /^gas_high \(L1\): raise when gas ≥ 50 %LEL; clear when below 47 %LEL \(deadband 3 %LEL\); on-delay 5 s; off-delay 30 s$/,
    'zh-CN': /^gas_high \(1级\): 当 gas ≥ 50 %LEL 时告警；低于 47 %LEL 时恢复（回差 3 %LEL）；延时告警 5 秒；延时恢复 30 秒$/,
  },
  cold: { en: /raise when temp ≤ 2 °C; clear when above 3 °C \(deadband 1 °C\)$/, 'zh-CN': /当 temp ≤ 2 °C 时告警；高于 3 °C 时恢复（回差 1 °C）$/ },
  temperature_rising: { en: /raise when temp rises by 8 °C or more within 1 min$/, 'zh-CN': /当 temp 在 1 分钟 内上升 8 °C 及以上时告警$/ },
  welfare_check: { en: /raise when volume advances by less than 0\.01 m³ within 12 h$/, 'zh-CN': /当 volume 在 12 小时 内增加少于 0\.01 m³ 时告警$/ },
  suspected_leak: { en: /raise when flow is above 0\.1 m³\/h in every 30 min slot for 24 h$/, 'zh-CN': /当 flow 在 24 小时 内每个 30 分钟 时段都高于 0\.1 m³\/h 时告警$/ },
  device_offline: { en: /raise when no report came for 3 heartbeats \(3 × 1 min = 3 min\)$/, 'zh-CN': /连续 3 次心跳（3 × 1 分钟 = 3 分钟）未收到上报时告警$/ },
  fire_confirmed: { en: /raise while all of smoke, temperature_rising are active$/, 'zh-CN': /当 smoke、temperature_rising 同时处于告警状态时告警$/ },
};

test('the fixture profile has a rule of every kind', () => {
  assert.deepEqual(new Set(profile.rules.map((r) => r.kind)), new Set(RULE_KINDS));
});

for (const lang of LANGS) {
  test(`every rule kind prints its condition with units (${lang})`, () => {
    for (const rule of profile.rules) {
      const line = describeRule(profile, rule, lang);
      assert.match(line, expected[rule.alarmType]![lang], line);
      assert.doesNotMatch(line, /undefined|NaN|null/);
    }
  });

  test(`the report of every bundled profile has no "undefined" (${lang})`, () => {
    const profiles = new Map<string, Profile>([...loadProfiles().profiles].map(([id, l]) => [id, l.profile]));
    const devices = [...profiles.values()].map((p, i) =>
      reportDevice({ deviceId: `d${i}`, profile: p, rules: p.rules, connection: 'x', addressId: undefined, record: { deviceId: `d${i}`, readBack: { at: 1, values: Object.fromEntries(p.points.map((pt) => [pt.name, pt.type === 'number' ? 1.5 : true])) } } }, lang),
    );
    const md = reportMarkdown({ gatewayId: 'gw', site: 's', lang, generatedAt: 'now', devices }, profiles);
    assert.doesNotMatch(md, /undefined|NaN/);
    assert.equal(devices.reduce((n, d) => n + d.thresholds.length, 0), [...profiles.values()].reduce((n, p) => n + p.rules.length, 0));
    assert.match(md, lang === 'en' ? /NOT TESTED/ : /未测试/);
  });
}
