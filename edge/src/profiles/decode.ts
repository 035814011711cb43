// Profile decoder: a device's raw JSON report → typed readings. Drivers hand over raw bytes; this
// is the one place values are transformed, always in this order for number points:
//   1. mask (bitwise AND with the raw integer)  2. shift (right)  3. scale (multiply)
//   4. offset (add)  then, for any point type, 5. enum (value as string key → label).
// A null or absent field yields no reading (devices report any subset). A report is accepted or
// rejected whole: one field of the wrong type rejects it, so a half-understood report can never
// raise or clear an alarm. Unknown fields are ignored for forward compatibility with new firmware.
//
// Modbus points take their raw value from registers (firmware-profiles `readModbusRaw`: raw type,
// byte and word order, bit), serial points from a checked frame (`readSerialRaw`); then the same
// transforms apply.
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import {
  checkFrame,
  modbusWidth,
  readModbusRaw,
  readSerialRaw,
  type ModbusProfile,
  type ModbusTable,
  type Point,
  type Profile,
  type SerialProfile,
} from '@gridwatch/firmware-profiles';

/** Reports larger than this are refused before parsing; a detector report is a few hundred bytes. */
export const MAX_REPORT_BYTES = 64 * 1024;
const MAX_STRING = 256;

export type DecodeResult = { ok: true; readings: Reading[] } | { ok: false; reason: string };

function lookup(payload: Record<string, unknown>, path: string): unknown {
  let node: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Removes binary floating-point noise from scale/offset (0.1 * 3 → 0.3, not 0.30000000000000004). */
function tidy(value: number): number {
  return Number.parseFloat(value.toPrecision(12));
}

type PointResult = { ok: true; value: ReadingValue } | { ok: false; reason: string };

function transform(point: Point, raw: unknown, field: string): PointResult {
  if (typeof raw !== point.type) return { ok: false, reason: `${field}: expected ${point.type}, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}` };
  let value = raw as ReadingValue;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: `${field}: expected a finite number` };
    if (point.mask !== undefined || point.shift !== undefined) {
      if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
        return { ok: false, reason: `${field}: expected an unsigned 32-bit integer for mask/shift, got ${value}` };
      }
      if (point.mask !== undefined) value = (value & point.mask) >>> 0;
      if (point.shift !== undefined) value = value >>> point.shift;
    }
    if (point.scale !== undefined) value = tidy(value * point.scale);
    if (point.offset !== undefined) value = tidy(value + point.offset);
  }
  if (typeof value === 'string' && value.length > MAX_STRING) return { ok: false, reason: `${field}: string longer than ${MAX_STRING}` };
  if (point.enum !== undefined) {
    const key = String(value);
    if (!Object.hasOwn(point.enum, key)) return { ok: false, reason: `${field}: value ${JSON.stringify(value)} has no enum mapping` };
    value = point.enum[key] as string;
  }
  return { ok: true, value };
}

/**
 * Decodes one byte report: a JSON object (MQTT profiles) or one whole frame (serial profiles).
 * Never throws: every malformed input comes back as `{ ok: false, reason }`.
 */
export function decodeReport(profile: Profile, deviceId: string, payload: Uint8Array | string, t: number): DecodeResult {
  if (profile.transport === 'serial') return decodeSerialFrame(profile, deviceId, Buffer.from(payload), t);
  if (profile.transport === 'modbus') return { ok: false, reason: 'a Modbus profile decodes registers, not a byte report' };
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_REPORT_BYTES) return { ok: false, reason: `report of ${size} bytes exceeds ${MAX_REPORT_BYTES}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `report is not JSON (${(err as Error).message})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: `report is not a JSON object (got ${Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed})` };
  }
  const readings: Reading[] = [];
  for (const point of profile.points) {
    const raw = lookup(parsed as Record<string, unknown>, point.path);
    if (raw === undefined || raw === null) continue;
    const result = transform(point, raw, point.path);
    if (!result.ok) return result;
    readings.push({ deviceId, point: point.name, value: result.value, t });
  }
  return { ok: true, readings };
}

/** A contiguous run of values read from one Modbus table; coils and discrete inputs as 0/1. */
export interface RegisterBlock {
  table: ModbusTable;
  address: number;
  values: number[];
}

/**
 * Registers → readings. A point not wholly inside one block gives no reading (a block whose read
 * failed leaves its points out), like an absent JSON field.
 */
export function decodeRegisters(profile: ModbusProfile, deviceId: string, blocks: readonly RegisterBlock[], t: number): DecodeResult {
  const readings: Reading[] = [];
  for (const point of profile.points) {
    const width = modbusWidth(point);
    const block = blocks.find((b) => b.table === point.table && point.address >= b.address && point.address + width <= b.address + b.values.length);
    if (!block) continue;
    const start = point.address - block.address;
    const raw = readModbusRaw(point, block.values.slice(start, start + width));
    const result = transform(point, raw, `${point.name} (${point.table} ${point.address})`);
    if (!result.ok) return result;
    readings.push({ deviceId, point: point.name, value: result.value, t });
  }
  return { ok: true, readings };
}

/** One whole serial frame (start to end bytes) → readings; framing and checksum are checked first. */
export function decodeSerialFrame(profile: SerialProfile, deviceId: string, frame: Buffer, t: number): DecodeResult {
  if (frame.length > (profile.framing.maxBytes ?? 256)) return { ok: false, reason: `frame of ${frame.length} bytes exceeds ${profile.framing.maxBytes ?? 256}` };
  const check = checkFrame(profile.framing, frame);
  if (!check.ok) return check;
  const readings: Reading[] = [];
  for (const point of profile.points) {
    const raw = readSerialRaw(point, frame);
    if (typeof raw === 'string') return { ok: false, reason: raw };
    const result = transform(point, raw, `${point.name} (byte ${point.byteOffset})`);
    if (!result.ok) return result;
    readings.push({ deviceId, point: point.name, value: result.value, t });
  }
  return { ok: true, readings };
}
