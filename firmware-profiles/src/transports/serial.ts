// Framed serial devices: a point is a field at a byte offset of one whole frame; the frame's
// start, end, length and checksum are checked before any field is read.
import { Type, type Static } from '@sinclair/typebox';
import { ProfileError } from '../errors.ts';
import { checkFrame, readSerialRaw, serialWidth } from '../layout.ts';
import { BYTE_ORDERS, HEX_BYTES, literals, pointCommon, profileSchema } from '../schema.ts';
import { defineProfileTransport, type RawPointValue } from './types.ts';

export const SERIAL_RAW_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bcd'] as const;
export type SerialRawType = (typeof SERIAL_RAW_TYPES)[number];

/** A field of a serial frame at a fixed byte offset from the first byte of the frame. */
export const SerialPoint = Type.Object(
  {
    ...pointCommon,
    byteOffset: Type.Integer({ minimum: 0, maximum: 1023, description: 'Byte offset from the first byte of the frame (start bytes included)' }),
    rawType: literals(SERIAL_RAW_TYPES, { description: 'Field encoding; bcd is packed BCD of `length` bytes' }),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'bcd only: number of bytes' })),
    byteOrder: Type.Optional(literals(BYTE_ORDERS, { description: 'Multi-byte fields; default big' })),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'boolean point from one bit of the raw integer, 0 = LSB' })),
  },
  { additionalProperties: false },
);
export type SerialPoint = Static<typeof SerialPoint>;

export const CHECKSUM_KINDS = ['none', 'crc16_modbus', 'xor', 'sum8'] as const;
export type ChecksumKind = (typeof CHECKSUM_KINDS)[number];

/**
 * How a byte stream is cut into frames: `[start][...body...][checksum][end]`. The length rule
 * finds the end of a frame; the checksum covers bytes `from` up to the checksum itself.
 */
export const Framing = Type.Object(
  {
    start: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Start-of-frame bytes, e.g. "02" (STX); used to resynchronise' })),
    end: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'End-of-frame bytes, e.g. "03" (ETX) or "0D 0A"' })),
    length: Type.Union(
      [
        Type.Object({ kind: Type.Literal('delimiter', { description: 'The frame ends at `end`' }) }, { additionalProperties: false }),
        Type.Object(
          { kind: Type.Literal('fixed'), bytes: Type.Integer({ minimum: 2, maximum: 1024, description: 'Whole frame length' }) },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            kind: Type.Literal('prefixed'),
            offset: Type.Integer({ minimum: 0, maximum: 64, description: 'Offset of the length field' }),
            size: Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Size of the length field in bytes' }),
            byteOrder: Type.Optional(literals(BYTE_ORDERS, { description: 'default big' })),
            adjust: Type.Integer({
              minimum: -64,
              maximum: 64,
              description: 'Whole frame length = offset + size + value + adjust (adjust counts checksum and end bytes)',
            }),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'How the end of a frame is found' },
    ),
    checksum: Type.Object(
      {
        kind: literals(CHECKSUM_KINDS, { description: 'crc16_modbus (2 bytes, low byte first), xor or sum8 (1 byte, sum mod 256)' }),
        from: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'First byte covered, default 0; coverage ends at the checksum' })),
      },
      { additionalProperties: false },
    ),
    maxBytes: Type.Optional(Type.Integer({ minimum: 4, maximum: 1024, description: 'Default 256; longer frames are dropped and the stream resynchronised' })),
  },
  { additionalProperties: false },
);
export type Framing = Static<typeof Framing>;

export const SerialProfile = profileSchema('serial', SerialPoint, { framing: Framing });
export type SerialProfile = Static<typeof SerialProfile>;


function checkSerialPoint(point: SerialPoint, at: string, profile: SerialProfile, file: string): void {
  if ((point.type === 'boolean') !== (point.bit !== undefined)) {
    throw new ProfileError(file, `${at}/bit`, 'a boolean point needs `bit`, and `bit` makes a boolean point');
  }
  if (point.type === 'string') throw new ProfileError(file, `${at}/type`, 'serial points are boolean or number');
  if ((point.rawType === 'bcd') !== (point.length !== undefined)) throw new ProfileError(file, `${at}/length`, '`length` is required for bcd and only for bcd');
  if (point.rawType === 'float32' && (point.mask !== undefined || point.shift !== undefined)) throw new ProfileError(file, `${at}/mask`, 'mask/shift need an integer rawType');
  const { length } = profile.framing;
  if (length.kind === 'fixed' && point.byteOffset + serialWidth(point) > length.bytes) {
    throw new ProfileError(file, `${at}/byteOffset`, `field runs past the ${length.bytes}-byte frame`);
  }
}

export const serialProfileTransport = defineProfileTransport({
  id: 'serial',
  schema: SerialProfile,
  check(profile, file) {
    if (profile.framing.length.kind === 'delimiter' && profile.framing.end === undefined) throw new ProfileError(file, '/framing/end', 'delimiter framing needs `end`');
    profile.points.forEach((point, index) => checkSerialPoint(point, `/points/${index}`, profile, file));
  },
  rawType: (point) => point.rawType,
  extract(profile, input) {
    if (!('payload' in input)) return { ok: false, reason: 'a serial profile decodes a frame, not registers' };
    const frame = Buffer.from(input.payload);
    const max = profile.framing.maxBytes ?? 256;
    if (frame.length > max) return { ok: false, reason: `frame of ${frame.length} bytes exceeds ${max}` };
    const check = checkFrame(profile.framing, frame);
    if (!check.ok) return check;
    const values: RawPointValue<SerialPoint>[] = [];
    for (const point of profile.points) {
      const raw = readSerialRaw(point, frame);
      if (typeof raw === 'string') return { ok: false, reason: raw };
      values.push({ point, raw, field: `${point.name} (byte ${point.byteOffset})` });
    }
    return { ok: true, values };
  },
});
