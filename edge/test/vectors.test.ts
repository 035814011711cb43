// Runs every `*.vectors.yaml` in the profile collection through the real decoders and rule engine.
// Cases in a file run in order against one device, so rule state carries over between cases.
// Inputs: MQTT payloads, serial frames (hex), Modbus register blocks or captured RTU responses, and
// commands whose RTU request bytes are checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import {
  BUNDLED_PROFILES_DIR,
  hexBytes,
  loadProfiles,
  loadVectorsFile,
  toHex,
  type ModbusPoint,
  type Profile,
  type VectorCase,
} from '@gridwatch/firmware-profiles';
import {
  MemoryRuleStore,
  RuleEngine,
  decodeRegisters,
  decodeReport,
  parseRtuReadResponse,
  readPdu,
  rtuAdu,
  writePdu,
  writeRequestFor,
  type DecodeResult,
} from '../src/index.ts';

const collection = loadProfiles(BUNDLED_PROFILES_DIR);
assert.ok(collection.vectorFiles.length > 0, 'no vectors files found');

function decodeCase(profile: Profile, c: VectorCase, unitId: number, deviceId: string, now: number): DecodeResult {
  if (profile.transport === 'modbus') {
    if (c.request !== undefined) {
      assert.ok(c.read, `${c.name}: request needs read`);
      assert.equal(toHex(rtuAdu(unitId, readPdu(c.read))), toHex(hexBytes(c.request)), 'request ADU');
    }
    if (c.registers !== undefined) return decodeRegisters(profile, deviceId, c.registers, now);
    assert.ok(c.read && c.response, `${c.name}: a Modbus case needs registers, or read + response`);
    const parsed = parseRtuReadResponse(unitId, c.read, hexBytes(c.response));
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    return decodeRegisters(profile, deviceId, [{ table: c.read.table, address: c.read.address, values: parsed.values }], now);
  }
  if (profile.transport === 'serial') {
    assert.ok(c.frame !== undefined, `${c.name}: a serial case needs frame`);
    return decodeReport(profile, deviceId, hexBytes(c.frame), now);
  }
  return decodeReport(profile, deviceId, Buffer.from(c.raw ?? JSON.stringify(c.payload), 'utf8'), now);
}

for (const file of collection.vectorFiles) {
  const vectors = loadVectorsFile(file);
  const loaded = collection.profiles.get(vectors.profile);
  test(`${basename(file)}`, async (t) => {
    assert.ok(loaded, `${file}: unknown profile ${vectors.profile}`);
    const { profile } = loaded;
    const unitId = vectors.unitId ?? 1;
    const deviceId = 'vec-1';
    const engine = new RuleEngine({ devices: [{ deviceId, profile }], store: new MemoryRuleStore() }).init();
    let now = 1_700_000_000_000;
    for (const c of vectors.cases) {
      await t.test(c.name, () => {
        now += 1000;
        if (c.command !== undefined) {
          assert.equal(profile.transport, 'modbus', 'commands are Modbus writes');
          const point = profile.points.find((p) => p.name === c.command?.point) as ModbusPoint | undefined;
          assert.ok(point, `unknown point ${c.command.point}`);
          const value = c.command.value;
          const encode = () => toHex(rtuAdu(unitId, writePdu(writeRequestFor(point, typeof value === 'string' ? Number.NaN : value))));
          if (c.error !== undefined) {
            assert.throws(encode, (err: Error) => err.message.includes(c.error ?? ''));
            return;
          }
          assert.equal(encode(), toHex(hexBytes(c.bytes ?? '')));
          return;
        }
        const decoded = decodeCase(profile, c, unitId, deviceId, now);
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
        const events = engine.evaluate(deviceId, decoded.readings, now);
        assert.deepEqual(
          events.map((e) => ({ action: e.action, alarmType: e.alarmType, level: e.level, ...(e.test ? { test: true } : {}) })),
          (c.events ?? []).map(({ test: isTest, ...rest }) => ({ ...rest, ...(isTest ? { test: true } : {}) })),
        );
        for (const e of events) {
          assert.equal(e.deviceId, deviceId);
          assert.equal(e.profileId, profile.id);
          assert.equal(e.edgeTime, now);
        }
      });
    }
  });
}
