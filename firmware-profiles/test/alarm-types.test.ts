// Lint of the alarm-type catalogue against the profile collection: every alarm type any profile
// can raise has a hazard family, labels and a CAP category, so correlation and the console never
// meet a type they cannot place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_PROFILES_DIR, CAP_CATEGORIES, ProfileError, alarmTypes, loadProfiles, parseAlarmTypes } from '../src/index.ts';

/** Raised by the edge and cloud themselves, not by a profile rule. */
const SYSTEM_TYPES = ['device_offline', 'gateway_offline', 'gateway_health', 'alarm_flood'];

test('every alarm type a profile can raise is in the catalogue', () => {
  const catalogue = alarmTypes();
  const missing: string[] = [];
  for (const { profile, file } of loadProfiles(BUNDLED_PROFILES_DIR).profiles.values()) {
    for (const rule of profile.rules) if (!catalogue.types.has(rule.alarmType)) missing.push(`${file}: ${rule.alarmType}`);
  }
  for (const type of SYSTEM_TYPES) if (!catalogue.types.has(type)) missing.push(`system: ${type}`);
  assert.deepEqual(missing, []);
});

test('every type names a declared family, both labels and a CAP 1.2 category', () => {
  const catalogue = alarmTypes();
  for (const info of catalogue.types.values()) {
    assert.ok(catalogue.families.has(info.family), info.code);
    assert.ok(info.labels['zh-CN'] && info.labels.en, info.code);
    assert.ok((CAP_CATEGORIES as readonly string[]).includes(info.cap), info.code);
  }
});

test('families separate hazards: smoke joins fire, gas joins gas, SOS never correlates', () => {
  const c = alarmTypes();
  assert.equal(c.familyOf('smoke'), c.familyOf('fire_confirmed'));
  assert.equal(c.familyOf('gas_low'), c.familyOf('gas_high'));
  assert.notEqual(c.familyOf('smoke'), c.familyOf('gas_high'));
  assert.equal(c.correlates('smoke'), true);
  assert.equal(c.correlates('sos'), false);
  assert.equal(c.familyOf('brand_new_type'), 'brand_new_type', 'an unknown type is a family of its own');
});

test('a catalogue with an unknown family or a bad field fails naming the path', () => {
  const head = 'version: 1\nfamilies:\n  fire: { correlate: true, lane: emergency, labels: { zh-CN: 火, en: Fire } }\n';
  assert.throws(
    () => parseAlarmTypes(`${head}types:\n  smoke: { family: fyre, level: 1, cap: Fire, unit: none, labels: { zh-CN: 烟, en: Smoke } }\n`, 'x.yaml'),
    (err: unknown) => err instanceof ProfileError && /x\.yaml: \/types\/smoke\/family: unknown hazard family fyre/.test(err.message),
  );
  assert.throws(
    () => parseAlarmTypes(`${head}types:\n  smoke: { family: fire, level: 9, cap: Fire, unit: none, labels: { zh-CN: 烟, en: Smoke } }\n`, 'x.yaml'),
    (err: unknown) => err instanceof ProfileError && /\/types\/smoke\/level/.test(err.message),
  );
});
