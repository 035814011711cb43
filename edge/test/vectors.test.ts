// Runs every `*.vectors.yaml` in the profile collection through the real decoder and rule engine.
// Cases in a file run in order against one device, so rule state carries over between cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { BUNDLED_PROFILES_DIR, loadProfiles, loadVectorsFile } from '@gridwatch/firmware-profiles';
import { MemoryRuleStateStore, decodeReport, evaluateRules } from '../src/index.ts';

const collection = loadProfiles(BUNDLED_PROFILES_DIR);
assert.ok(collection.vectorFiles.length > 0, 'no vectors files found');

for (const file of collection.vectorFiles) {
  const vectors = loadVectorsFile(file);
  const loaded = collection.profiles.get(vectors.profile);
  test(`${basename(file)}`, async (t) => {
    assert.ok(loaded, `${file}: unknown profile ${vectors.profile}`);
    const store = new MemoryRuleStateStore();
    const deviceId = 'vec-1';
    let now = 1_700_000_000_000;
    for (const c of vectors.cases) {
      await t.test(c.name, () => {
        now += 1000;
        const payload = c.raw ?? JSON.stringify(c.payload);
        const decoded = decodeReport(loaded.profile, deviceId, Buffer.from(payload, 'utf8'), now);
        if (c.error !== undefined) {
          assert.equal(decoded.ok, false, `expected a rejection containing "${c.error}"`);
          if (!decoded.ok) assert.ok(decoded.reason.includes(c.error), `reason "${decoded.reason}" lacks "${c.error}"`);
          return;
        }
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
        for (const r of decoded.readings) {
          assert.equal(r.deviceId, deviceId);
          assert.equal(r.t, now);
        }
        if (c.readings !== undefined) {
          assert.deepEqual(Object.fromEntries(decoded.readings.map((r) => [r.point, r.value])), c.readings);
        }
        const events = evaluateRules({ deviceId, profile: loaded.profile }, decoded.readings, store, now);
        assert.deepEqual(
          events.map((e) => ({ action: e.action, alarmType: e.alarmType, level: e.level, ...(e.test ? { test: true } : {}) })),
          (c.events ?? []).map(({ test: isTest, ...rest }) => ({ ...rest, ...(isTest ? { test: true } : {}) })),
        );
        for (const e of events) {
          assert.equal(e.deviceId, deviceId);
          assert.equal(e.profileId, loaded.profile.id);
          assert.equal(e.edgeTime, now);
        }
      });
    }
  });
}
