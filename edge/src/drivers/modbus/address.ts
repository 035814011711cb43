// Address vocabulary of Modbus devices. Clause numbers refer to the MODBUS Application Protocol
// Specification V1.1b3 (MAP) and MODBUS over Serial Line V1.02 (MSL).
import type { ModbusTable } from '@gridwatch/firmware-profiles';

/** Where a Modbus device sits: the bus (serial line or host:port) and its unit id on that bus. */
export interface ModbusAddress {
  bus: string;
  /** MSL §2.2: slave addresses 1–247 on a serial line; behind a TCP gateway the unit identifier (MAP/TCP §4.1). */
  unitId: number;
}

/** Read function codes per table (MAP §6.1–§6.4). */
export const READ_FUNCTION: Record<ModbusTable, number> = {
  coil: 0x01,
  discrete: 0x02,
  holding: 0x03,
  input: 0x04,
};

/** Write function codes (MAP §6.5, §6.6, §6.11, §6.12). */
export const WRITE_SINGLE_COIL = 0x05;
export const WRITE_SINGLE_REGISTER = 0x06;
export const WRITE_MULTIPLE_COILS = 0x0f;
export const WRITE_MULTIPLE_REGISTERS = 0x10;

/** Quantity limits per request: MAP §6.1/§6.2 (2000 bits), §6.3/§6.4 (125 registers), §6.12 (123 registers written). */
export const MAX_READ_BITS = 2000;
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;

/** Exception codes, MAP §7. */
export const EXCEPTION_NAMES: Record<number, string> = {
  0x01: 'illegal_function',
  0x02: 'illegal_data_address',
  0x03: 'illegal_data_value',
  0x04: 'server_device_failure',
  0x05: 'acknowledge',
  0x06: 'server_device_busy',
  0x0a: 'gateway_path_unavailable',
  0x0b: 'gateway_target_failed_to_respond',
};

/**
 * RTU character time: 11 bits per character (start + 8 data + parity or a second stop + stop),
 * MSL §2.5.1. Frames are separated by at least 3.5 character times of silence (MSL §2.5.1.1); for
 * baud rates above 19200 a fixed 1.75 ms is recommended.
 */
export function characterTimeMs(baudRate: number): number {
  return (11 * 1000) / baudRate;
}

export function interFrameGapMs(baudRate: number): number {
  return baudRate > 19200 ? 1.75 : 3.5 * characterTimeMs(baudRate);
}

/** Bytes of an RTU read response: unit + fc + byte count + data + CRC (MAP §6.1–§6.4, MSL §2.5.1). */
export function rtuReadResponseBytes(table: ModbusTable, count: number): number {
  const data = table === 'coil' || table === 'discrete' ? Math.ceil(count / 8) : count * 2;
  return 3 + data + 2;
}

/** Bytes of an RTU read request: unit + fc + address + quantity + CRC. */
export const RTU_READ_REQUEST_BYTES = 8;
