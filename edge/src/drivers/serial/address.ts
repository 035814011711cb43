// Address vocabulary of framed serial devices. A device is addressed by its line (one device per
// port: RS-232 point to point, or an RS-485 line with one talker); the frame layout is the
// profile's `framing`. Terms:
// - start / end bytes: usually the C0 control characters STX (0x02) and ETX (0x03) of ISO/IEC 646
//   (ECMA-6), or CR LF (0x0D 0x0A) for text lines;
// - length rules: `delimiter` (scan for `end`), `fixed`, `prefixed` (a 1- or 2-byte length field);
// - checksums: CRC-16/MODBUS (MODBUS over Serial Line V1.02 §6.2.2, low byte first), XOR of the
//   covered bytes (BCC/LRC as in ISO 1155's longitudinal check), and sum-8 (sum modulo 256).

/** Where a serial device sits: the id of a `kind: serial` bus of the installation file. */
export interface SerialAddress {
  bus: string;
}

/** Bytes with no complete frame after this long are a truncated frame, dropped and counted. */
export const FRAME_TIMEOUT_MS = 500;

export type SerialErrorKind = 'garbage' | 'short' | 'oversize' | 'io';
