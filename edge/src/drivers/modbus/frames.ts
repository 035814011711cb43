// Modbus PDUs and RTU ADUs as bytes. The driver talks through modbus-serial; these functions say
// what must be on the wire, so the vectors can check captured frames and commands byte for byte,
// and writes are computed in one place (point + value → function code, address, raw values).
import { crc16Modbus, modbusRawType, writeModbusRaw, type ModbusPoint, type ModbusTable } from '@gridwatch/firmware-profiles';
import {
  EXCEPTION_NAMES,
  MAX_WRITE_REGISTERS,
  READ_FUNCTION,
  WRITE_MULTIPLE_COILS,
  WRITE_MULTIPLE_REGISTERS,
  WRITE_SINGLE_COIL,
  WRITE_SINGLE_REGISTER,
} from './address.ts';

export interface ReadRequest {
  table: ModbusTable;
  address: number;
  count: number;
}

/** One write as the bus executes it: FC5/FC6 for one value, FC15/FC16 for several. */
export interface WriteRequest {
  table: 'coil' | 'holding';
  address: number;
  values: number[];
}

export function readPdu({ table, address, count }: ReadRequest): Buffer {
  const pdu = Buffer.alloc(5);
  pdu[0] = READ_FUNCTION[table];
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(count, 3);
  return pdu;
}

export function writePdu({ table, address, values }: WriteRequest): Buffer {
  if (values.length === 1) {
    const pdu = Buffer.alloc(5);
    pdu[0] = table === 'coil' ? WRITE_SINGLE_COIL : WRITE_SINGLE_REGISTER;
    pdu.writeUInt16BE(address, 1);
    // MAP §6.5: a coil is written as 0xFF00 (ON) or 0x0000 (OFF).
    pdu.writeUInt16BE(table === 'coil' ? (values[0] ? 0xff00 : 0) : values[0]! & 0xffff, 3);
    return pdu;
  }
  if (table === 'coil') {
    const bytes = Math.ceil(values.length / 8);
    const pdu = Buffer.alloc(6 + bytes);
    pdu[0] = WRITE_MULTIPLE_COILS;
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(values.length, 3);
    pdu[5] = bytes;
    values.forEach((v, i) => {
      if (v) pdu[6 + (i >> 3)]! |= 1 << (i & 7);
    });
    return pdu;
  }
  if (values.length > MAX_WRITE_REGISTERS) throw new RangeError(`at most ${MAX_WRITE_REGISTERS} registers per write (MAP §6.12)`);
  const pdu = Buffer.alloc(6 + values.length * 2);
  pdu[0] = WRITE_MULTIPLE_REGISTERS;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(values.length, 3);
  pdu[5] = values.length * 2;
  values.forEach((v, i) => pdu.writeUInt16BE(v & 0xffff, 6 + i * 2));
  return pdu;
}

/** RTU ADU: unit id + PDU + CRC-16, low byte first (MSL §2.5.1, §6.2.2). */
export function rtuAdu(unitId: number, pdu: Buffer): Buffer {
  const adu = Buffer.alloc(pdu.length + 3);
  adu[0] = unitId;
  pdu.copy(adu, 1);
  adu.writeUInt16LE(crc16Modbus(adu, 0, adu.length - 2), adu.length - 2);
  return adu;
}

export type ResponseError = 'crc' | 'short' | 'exception' | 'mismatch';
export type ParsedResponse = { ok: true; values: number[] } | { ok: false; kind: ResponseError; reason: string };

/** Parses an RTU response ADU to a read; values are registers, or 0/1 per coil. */
export function parseRtuReadResponse(unitId: number, request: ReadRequest, adu: Buffer): ParsedResponse {
  if (adu.length < 5) return { ok: false, kind: 'short', reason: `short frame: ${adu.length} bytes` };
  if (crc16Modbus(adu, 0, adu.length - 2) !== adu.readUInt16LE(adu.length - 2)) return { ok: false, kind: 'crc', reason: 'CRC error' };
  const fc = READ_FUNCTION[request.table];
  if (adu[0] !== unitId) return { ok: false, kind: 'mismatch', reason: `answer from unit ${adu[0]}, expected ${unitId}` };
  if (adu[1] === (fc | 0x80)) {
    const code = adu[2]!;
    return { ok: false, kind: 'exception', reason: `Modbus exception ${code} (${EXCEPTION_NAMES[code] ?? 'unknown'})` };
  }
  if (adu[1] !== fc) return { ok: false, kind: 'mismatch', reason: `function ${adu[1]}, expected ${fc}` };
  const bits = request.table === 'coil' || request.table === 'discrete';
  const want = bits ? Math.ceil(request.count / 8) : request.count * 2;
  if (adu[2] !== want || adu.length !== 5 + want) return { ok: false, kind: 'short', reason: `short frame: byte count ${adu[2]}, expected ${want}` };
  const values: number[] = [];
  for (let i = 0; i < request.count; i++) values.push(bits ? (adu[3 + (i >> 3)]! >> (i & 7)) & 1 : adu.readUInt16BE(3 + i * 2));
  return { ok: true, values };
}

/**
 * A command on a writable point → the write the bus must execute. The value is in engineering
 * units; the decoder's transforms are undone in reverse (offset, then scale).
 */
export function writeRequestFor(point: ModbusPoint, value: boolean | number): WriteRequest {
  if (point.access !== 'readwrite' || (point.table !== 'coil' && point.table !== 'holding')) {
    throw new TypeError(`point ${point.name} is not writable`);
  }
  if (point.table === 'coil') {
    if (typeof value !== 'boolean') throw new TypeError(`point ${point.name} takes true or false`);
    return { table: 'coil', address: point.address, values: [value ? 1 : 0] };
  }
  if (point.bit !== undefined || point.enum !== undefined) throw new TypeError(`point ${point.name}: bit and enum points cannot be written`);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`point ${point.name} takes a number`);
  let raw = value;
  if (point.offset !== undefined) raw -= point.offset;
  if (point.scale !== undefined) raw /= point.scale;
  if (modbusRawType(point) !== 'float32') raw = Math.round(raw);
  return { table: 'holding', address: point.address, values: writeModbusRaw(point, raw) };
}
