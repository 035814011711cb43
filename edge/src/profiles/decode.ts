// Profile decoder: what a driver delivered → typed readings. Drivers hand over raw bytes or register
// blocks; the profile's transport piece (firmware-profiles `transports/`) finds each point's raw
// value, and this is the one place values are transformed, always in this order for number points:
//   1. mask (bitwise AND with the raw integer)  2. shift (right)  3. scale (multiply)
//   4. offset (add)  then, for any point type, 5. enum (value as string key → label).
// An absent point yields no reading (devices report any subset). A report is accepted or rejected
// whole: one field of the wrong type rejects it, so a half-understood report can never raise or
// clear an alarm. Unknown fields are ignored for forward compatibility with new firmware.
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import { transportOf, type Point, type Profile, type RawInput, type RegisterBlock } from '@gridwatch/firmware-profiles';

export { MAX_REPORT_BYTES } from '@gridwatch/firmware-profiles';
const MAX_STRING = 256;

export type DecodeResult = { ok: true; readings: Reading[] } | { ok: false; reason: string };

/** Removes binary floating-point noise from scale/offset (0.1 * 3 → 0.3, not 0.30000000000000004). */
function tidy(value: number): number {
  return Number.parseFloat(value.toPrecision(12));
}

/** A point's refusal; a success is the bare value (no result object per point and report, issue 12). */
class Rejected {
  constructor(readonly reason: string) {}
}
type PointResult = ReadingValue | Rejected;

function transform(point: Point, raw: unknown, field: string): PointResult {
  if (typeof raw !== point.type) return new Rejected(`${field}: expected ${point.type}, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}`);
  let value = raw as ReadingValue;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return new Rejected(`${field}: expected a finite number`);
    if (point.mask !== undefined || point.shift !== undefined) {
      if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
        return new Rejected(`${field}: expected an unsigned 32-bit integer for mask/shift, got ${value}`);
      }
      if (point.mask !== undefined) value = (value & point.mask) >>> 0;
      if (point.shift !== undefined) value = value >>> point.shift;
    }
    if (point.scale !== undefined) value = tidy(value * point.scale);
    if (point.offset !== undefined) value = tidy(value + point.offset);
  }
  if (typeof value === 'string' && value.length > MAX_STRING) return new Rejected(`${field}: string longer than ${MAX_STRING}`);
  if (point.enum !== undefined) {
    const key = String(value);
    if (!Object.hasOwn(point.enum, key)) return new Rejected(`${field}: value ${JSON.stringify(value)} has no enum mapping`);
    value = point.enum[key] as string;
  }
  return value;
}

/** Decodes one delivery of a device with its profile's transport piece. Never throws. */
export function decode(profile: Profile, deviceId: string, input: RawInput, t: number): DecodeResult {
  const extracted = transportOf(profile).extract(profile, input);
  if (!extracted.ok) return extracted;
  const readings: Reading[] = [];
  for (const { point, raw, field } of extracted.values) {
    const value = transform(point as Point, raw, field);
    if (value instanceof Rejected) return { ok: false, reason: value.reason };
    readings.push({ deviceId, point: point.name, value, t });
  }
  return { ok: true, readings };
}

/** One byte report: a JSON object (MQTT profiles) or one whole frame (serial profiles). */
export function decodeReport(profile: Profile, deviceId: string, payload: Uint8Array | string, t: number): DecodeResult {
  return decode(profile, deviceId, { payload }, t);
}

/** Register blocks as read → readings; a point not wholly inside one block gives no reading. */
export function decodeRegisters(profile: Profile, deviceId: string, blocks: readonly RegisterBlock[], t: number): DecodeResult {
  return decode(profile, deviceId, { blocks }, t);
}
