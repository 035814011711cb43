// Runs every `*.vectors.yaml` in the profile collection through the real decoders and rule engine.
// Cases in a file run in order against one device, so rule state carries over between cases.
// Inputs: MQTT payloads, serial frames (hex), Modbus register blocks or captured RTU responses, and
// commands whose RTU request bytes are checked. Captured Modbus exchanges go through the driver's
// own client (ModbusSerialTransport over modbus-serial) on a stream that plays the device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import {
  BUNDLED_PROFILES_DIR,
  crc16Modbus,
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
  ModbusSerialTransport,
  RuleEngine,
  decodeRegisters,
  decodeReport,
  writeRequestFor,
  type DecodeResult,
  type RtuStream,
} from '../src/index.ts';

const collection = loadProfiles(BUNDLED_PROFILES_DIR);
assert.ok(collection.vectorFiles.length > 0, 'no vectors files found');

/** The device end of a captured exchange: records what the client writes and answers with the capture. */
class CapturedRtuStream extends EventEmitter implements RtuStream {
  isOpen = false;
  written: Buffer[] = [];
  answer: ((request: Buffer) => Buffer | null) | null = null;
  open(callback: (err: Error | null) => void): void {
    this.isOpen = true;
    callback(null);
  }
  close(callback: () => void): void {
    this.isOpen = false;
    callback();
  }
  write(adu: Buffer): void {
    this.written.push(Buffer.from(adu));
    const reply = this.answer?.(Buffer.from(adu));
    if (reply) setImmediate(() => this.emit('data', reply));
  }
}

/** A slave's normal answer to a write (MAP §6.5/§6.6 echo the request; §6.11/§6.12 echo address and quantity). */
function writeAnswer(request: Buffer): Buffer {
  const fc = request[1];
  if (fc === 0x05 || fc === 0x06) return request;
  const answer = Buffer.alloc(8);
  request.copy(answer, 0, 0, 6);
  answer.writeUInt16LE(crc16Modbus(answer, 0, 6), 6);
  return answer;
}

async function decodeCase(profile: Profile, c: VectorCase, unitId: number, deviceId: string, now: number, bus: { transport: ModbusSerialTransport; stream: CapturedRtuStream }): Promise<DecodeResult> {
  if (profile.transport === 'modbus') {
    if (c.registers !== undefined) return decodeRegisters(profile, deviceId, c.registers, now);
    assert.ok(c.read && c.response, `${c.name}: a Modbus case needs registers, or read + response`);
    const response = hexBytes(c.response);
    bus.stream.answer = () => response;
    const values = await bus.transport.read(unitId, c.read, 500).catch((err: Error) => err);
    if (c.request !== undefined) assert.equal(toHex(bus.stream.written.at(-1) ?? Buffer.alloc(0)), toHex(hexBytes(c.request)), 'request ADU');
    if (values instanceof Error) return { ok: false, reason: values.message };
    return decodeRegisters(profile, deviceId, [{ table: c.read.table, address: c.read.address, values }], now);
  }
  if (profile.transport === 'serial') {
    assert.ok(c.frame !== undefined, `${c.name}: a serial case needs frame`);
    return decodeReport(profile, deviceId, hexBytes(c.frame), now);
  }
  return decodeReport(profile, deviceId, Buffer.from(c.raw ?? JSON.stringify(c.payload), 'utf8'), now);
}

/** A command through the driver's client: the request ADU it wrote. */
async function commandBytes(point: ModbusPoint, value: boolean | number, unitId: number, bus: { transport: ModbusSerialTransport; stream: CapturedRtuStream }): Promise<string> {
  bus.stream.answer = writeAnswer;
  await bus.transport.write(unitId, writeRequestFor(point, value), 500);
  return toHex(bus.stream.written.at(-1) ?? Buffer.alloc(0));
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
    const stream = new CapturedRtuStream();
    const bus = { stream, transport: new ModbusSerialTransport({ kind: 'stream', stream, name: basename(file) }) };
    if (profile.transport === 'modbus') await bus.transport.open();
    t.after(() => bus.transport.close());
    let now = 1_700_000_000_000;
    for (const c of vectors.cases) {
      await t.test(c.name, async () => {
        now += 1000;
        if (c.command !== undefined) {
          assert.equal(profile.transport, 'modbus', 'commands are Modbus writes');
          const point = profile.points.find((p) => p.name === c.command?.point) as ModbusPoint | undefined;
          assert.ok(point, `unknown point ${c.command.point}`);
          const value = c.command.value;
          const encode = () => commandBytes(point, typeof value === 'string' ? Number.NaN : value, unitId, bus);
          if (c.error !== undefined) {
            await assert.rejects(encode, (err: Error) => err.message.includes(c.error ?? ''));
            return;
          }
          assert.equal(await encode(), toHex(hexBytes(c.bytes ?? '')));
          return;
        }
        const decoded = await decodeCase(profile, c, unitId, deviceId, now, bus);
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
