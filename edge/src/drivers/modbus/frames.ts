// The requests a Modbus bus executes, and how a command on a writable point becomes one. The bytes
// on the wire are modbus-serial's (client.ts): the profile vectors' captured exchanges run through
// that same code, so there is one Modbus PDU implementation.
import { modbusRawType, writeModbusRaw, type ModbusPoint, type ModbusTable } from '@gridwatch/firmware-profiles';

export interface ReadRequest {
  table: ModbusTable;
  address: number;
  count: number;
}

/** One write as the bus executes it: FC5/FC6 for one value, FC15/FC16 for several (MAP §6.5, §6.6, §6.11, §6.12). */
export interface WriteRequest {
  table: 'coil' | 'holding';
  address: number;
  values: number[];
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
