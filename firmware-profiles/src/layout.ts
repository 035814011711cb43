// Where a point's raw value sits in registers or in a frame, and the checksums frames carry. Shared
// by the edge decoder (read) and the simulators (write) so both agree byte for byte. Transforms
// (mask, shift, scale, offset, enum) are not here: they belong to the edge's decoder.
import type { ByteOrder } from './schema.ts';
import type { ModbusPoint, ModbusRawType } from './transports/modbus.ts';
import type { ChecksumKind, Framing, SerialPoint } from './transports/serial.ts';

/** Registers a Modbus point spans: 2 for 32-bit raw types, else 1 (coils/discrete: 1 bit). */
export function modbusWidth(point: ModbusPoint): number {
  const raw = modbusRawType(point);
  return raw === 'int32' || raw === 'uint32' || raw === 'float32' ? 2 : 1;
}

/** Raw type of a Modbus point with the default applied. */
export function modbusRawType(point: ModbusPoint): ModbusRawType {
  return point.rawType ?? (point.table === 'coil' || point.table === 'discrete' ? 'bool' : 'uint16');
}

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), Modbus over Serial Line V1.02 §6.2.2. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function xor8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i]!;
  return x;
}

export function sum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

export function checksumSize(kind: ChecksumKind): number {
  return kind === 'none' ? 0 : kind === 'crc16_modbus' ? 2 : 1;
}

export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');
}

/** A float32 carries about 7 significant digits; 0.35f reads back as 0.3499999940395355 without this. */
function float32(value: number): number {
  return Number.isFinite(value) ? Number.parseFloat(value.toPrecision(7)) : value;
}

/** Registers → raw number/boolean for one Modbus point. `regs[0]` is the register at point.address. */
export function readModbusRaw(point: ModbusPoint, regs: readonly number[]): number | boolean {
  const raw = modbusRawType(point);
  if (raw === 'bool') return Boolean(regs[0]);
  const buf = Buffer.alloc(4);
  const words = raw === 'int16' || raw === 'uint16' ? 1 : 2;
  for (let w = 0; w < words; w++) {
    // Word order: big = the register at the lower address holds the high word.
    const reg = regs[(point.wordOrder ?? 'big') === 'big' ? w : words - 1 - w]! & 0xffff;
    if ((point.byteOrder ?? 'big') === 'big') buf.writeUInt16BE(reg, w * 2);
    else buf.writeUInt16LE(reg, w * 2);
  }
  switch (raw) {
    case 'uint16':
      return point.bit === undefined ? buf.readUInt16BE(0) : Boolean((buf.readUInt16BE(0) >> point.bit) & 1);
    case 'int16':
      return point.bit === undefined ? buf.readInt16BE(0) : Boolean((buf.readUInt16BE(0) >> point.bit) & 1);
    case 'uint32':
      return buf.readUInt32BE(0);
    case 'int32':
      return buf.readInt32BE(0);
    case 'float32':
      return float32(buf.readFloatBE(0));
  }
}

/** Raw number → registers for one Modbus point (inverse of readModbusRaw; bits are set in `current`). */
export function writeModbusRaw(point: ModbusPoint, value: number | boolean, current: readonly number[] = [0, 0]): number[] {
  const raw = modbusRawType(point);
  if (raw === 'bool') return [value ? 1 : 0];
  if (point.bit !== undefined) {
    const reg = current[0] ?? 0;
    const mask = 1 << point.bit;
    return [value ? reg | mask : reg & ~mask & 0xffff];
  }
  const n = Number(value);
  const buf = Buffer.alloc(4);
  const words = raw === 'int16' || raw === 'uint16' ? 1 : 2;
  if (raw === 'uint16') buf.writeUInt16BE(n & 0xffff, 0);
  else if (raw === 'int16') buf.writeInt16BE(n, 0);
  else if (raw === 'uint32') buf.writeUInt32BE(n >>> 0, 0);
  else if (raw === 'int32') buf.writeInt32BE(n, 0);
  else buf.writeFloatBE(n, 0);
  const regs: number[] = [];
  for (let w = 0; w < words; w++) regs.push((point.byteOrder ?? 'big') === 'big' ? buf.readUInt16BE(w * 2) : buf.readUInt16LE(w * 2));
  return (point.wordOrder ?? 'big') === 'big' ? regs : regs.reverse();
}

/** Bytes a serial field occupies. */
export function serialWidth(point: SerialPoint): number {
  switch (point.rawType) {
    case 'uint8':
    case 'int8':
      return 1;
    case 'uint16':
    case 'int16':
      return 2;
    case 'bcd':
      return point.length ?? 1;
    default:
      return 4;
  }
}

function order(point: SerialPoint): ByteOrder {
  return point.byteOrder ?? 'big';
}

/** Frame → raw value of one field, or an error text when the field is not in the frame or not valid BCD. */
export function readSerialRaw(point: SerialPoint, frame: Buffer): number | boolean | string {
  const width = serialWidth(point);
  if (point.byteOffset + width > frame.length) return `${point.name}: frame of ${frame.length} bytes ends before byte ${point.byteOffset + width}`;
  const o = point.byteOffset;
  const be = order(point) === 'big';
  let n: number;
  switch (point.rawType) {
    case 'uint8':
      n = frame.readUInt8(o);
      break;
    case 'int8':
      n = frame.readInt8(o);
      break;
    case 'uint16':
      n = be ? frame.readUInt16BE(o) : frame.readUInt16LE(o);
      break;
    case 'int16':
      n = be ? frame.readInt16BE(o) : frame.readInt16LE(o);
      break;
    case 'uint32':
      n = be ? frame.readUInt32BE(o) : frame.readUInt32LE(o);
      break;
    case 'int32':
      n = be ? frame.readInt32BE(o) : frame.readInt32LE(o);
      break;
    case 'float32':
      n = float32(be ? frame.readFloatBE(o) : frame.readFloatLE(o));
      break;
    case 'bcd': {
      n = 0;
      for (let i = 0; i < width; i++) {
        const byte = frame[be ? o + i : o + width - 1 - i]!;
        const hi = byte >> 4;
        const lo = byte & 0x0f;
        if (hi > 9 || lo > 9) return `${point.name}: byte ${o + i} is not BCD`;
        n = n * 100 + hi * 10 + lo;
      }
      break;
    }
  }
  return point.bit === undefined ? n : Boolean((n >>> point.bit) & 1);
}

/** Writes one field's raw value into a frame (simulators and vectors); bits are OR-ed/cleared. */
export function writeSerialRaw(point: SerialPoint, frame: Buffer, value: number | boolean): void {
  const o = point.byteOffset;
  const be = order(point) === 'big';
  if (point.bit !== undefined) {
    const width = serialWidth(point);
    let current = width === 1 ? frame.readUInt8(o) : width === 2 ? (be ? frame.readUInt16BE(o) : frame.readUInt16LE(o)) : be ? frame.readUInt32BE(o) : frame.readUInt32LE(o);
    current = value ? (current | (1 << point.bit)) >>> 0 : (current & ~(1 << point.bit)) >>> 0;
    if (width === 1) frame.writeUInt8(current, o);
    else if (width === 2) frame[be ? 'writeUInt16BE' : 'writeUInt16LE'](current, o);
    else frame[be ? 'writeUInt32BE' : 'writeUInt32LE'](current, o);
    return;
  }
  const n = Number(value);
  switch (point.rawType) {
    case 'uint8':
      frame.writeUInt8(n, o);
      return;
    case 'int8':
      frame.writeInt8(n, o);
      return;
    case 'uint16':
      frame[be ? 'writeUInt16BE' : 'writeUInt16LE'](n, o);
      return;
    case 'int16':
      frame[be ? 'writeInt16BE' : 'writeInt16LE'](n, o);
      return;
    case 'uint32':
      frame[be ? 'writeUInt32BE' : 'writeUInt32LE'](n, o);
      return;
    case 'int32':
      frame[be ? 'writeInt32BE' : 'writeInt32LE'](n, o);
      return;
    case 'float32':
      frame[be ? 'writeFloatBE' : 'writeFloatLE'](n, o);
      return;
    case 'bcd': {
      const width = serialWidth(point);
      let rest = n;
      for (let i = width - 1; i >= 0; i--) {
        const two = rest % 100;
        rest = Math.floor(rest / 100);
        frame[be ? o + i : o + width - 1 - i] = ((Math.floor(two / 10) << 4) | two % 10) & 0xff;
      }
      return;
    }
  }
}

/** Computes the checksum over `frame` as the framing defines it and stores it in place. */
export function sealFrame(framing: Framing, frame: Buffer): Buffer {
  const size = checksumSize(framing.checksum.kind);
  if (size === 0) return frame;
  const end = frame.length - (framing.end === undefined ? 0 : hexBytes(framing.end).length);
  const at = end - size;
  const from = framing.checksum.from ?? 0;
  if (framing.checksum.kind === 'crc16_modbus') frame.writeUInt16LE(crc16Modbus(frame, from, at), at);
  else frame[at] = framing.checksum.kind === 'xor' ? xor8(frame, from, at) : sum8(frame, from, at);
  return frame;
}

export type FrameCheck = { ok: true } | { ok: false; reason: string };

/** Checks start, end, length and checksum of one whole frame. */
export function checkFrame(framing: Framing, frame: Buffer): FrameCheck {
  const start = framing.start === undefined ? Buffer.alloc(0) : hexBytes(framing.start);
  const end = framing.end === undefined ? Buffer.alloc(0) : hexBytes(framing.end);
  const size = checksumSize(framing.checksum.kind);
  const from = framing.checksum.from ?? 0;
  const min = Math.max(start.length + size + end.length, from + size + end.length, 1);
  if (frame.length < min) return { ok: false, reason: `short frame: ${frame.length} bytes` };
  if (!frame.subarray(0, start.length).equals(start)) return { ok: false, reason: 'frame does not begin with the start bytes' };
  if (!frame.subarray(frame.length - end.length).equals(end)) return { ok: false, reason: 'frame does not end with the end bytes' };
  const { length } = framing;
  if (length.kind === 'fixed' && frame.length !== length.bytes) return { ok: false, reason: `short frame: ${frame.length} of ${length.bytes} bytes` };
  if (length.kind === 'prefixed') {
    const expected = prefixedLength(length, frame);
    if (expected === null || frame.length !== expected) return { ok: false, reason: `short frame: ${frame.length} bytes, length field says ${expected ?? '?'}` };
  }
  if (size > 0) {
    const at = frame.length - end.length - size;
    const kind = framing.checksum.kind;
    const want = kind === 'crc16_modbus' ? crc16Modbus(frame, from, at) : kind === 'xor' ? xor8(frame, from, at) : sum8(frame, from, at);
    const got = kind === 'crc16_modbus' ? frame.readUInt16LE(at) : frame[at]!;
    if (want !== got) return { ok: false, reason: `checksum mismatch (${kind}: got ${got.toString(16)}, computed ${want.toString(16)})` };
  }
  return { ok: true };
}

/** Whole frame length from a length-prefixed frame's header, or null while the header is incomplete. */
export function prefixedLength(length: Extract<Framing['length'], { kind: 'prefixed' }>, bytes: Buffer): number | null {
  if (bytes.length < length.offset + length.size) return null;
  const value =
    length.size === 1 ? bytes[length.offset]! : (length.byteOrder ?? 'big') === 'big' ? bytes.readUInt16BE(length.offset) : bytes.readUInt16LE(length.offset);
  return length.offset + length.size + value + length.adjust;
}
