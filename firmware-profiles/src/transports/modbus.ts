// Modbus devices: a point is a table, a 0-based PDU address and a raw type (Modbus Application
// Protocol V1.1b3 §4.3, §4.4); the driver delivers register blocks as read.
import { Type, type Static } from '@sinclair/typebox';
import { ProfileError } from '../errors.ts';
import { modbusRawType, modbusWidth, readModbusRaw } from '../layout.ts';
import { BYTE_ORDERS, literals, pointCommon, profileSchema } from '../schema.ts';
import { defineProfileTransport, type RawPointValue } from './types.ts';

export const MODBUS_TABLES = ['coil', 'discrete', 'holding', 'input'] as const;
export type ModbusTable = (typeof MODBUS_TABLES)[number];
export const REGISTER_RAW_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export const MODBUS_RAW_TYPES = ['bool', ...REGISTER_RAW_TYPES] as const;
export type ModbusRawType = (typeof MODBUS_RAW_TYPES)[number];

/**
 * A Modbus point (Modbus Application Protocol V1.1b3 §4.3 data model: coils, discrete inputs,
 * holding registers, input registers). Addresses are PDU addresses, 0-based (§4.4): "register
 * 40001" of a vendor manual is holding address 0.
 */
export const ModbusPoint = Type.Object(
  {
    ...pointCommon,
    table: literals(MODBUS_TABLES, { description: 'coil (FC1/5/15), discrete input (FC2), holding register (FC3/6/16), input register (FC4)' }),
    address: Type.Integer({ minimum: 0, maximum: 65535, description: 'PDU address, 0-based (§4.4)' }),
    rawType: Type.Optional(
      literals(MODBUS_RAW_TYPES, {
        description: 'bool for coils/discrete inputs; registers default to uint16; 32-bit types span two registers',
      }),
    ),
    byteOrder: Type.Optional(
      literals(BYTE_ORDERS, { description: 'Byte order inside each register; Modbus is big-endian (§4.2), default big' }),
    ),
    wordOrder: Type.Optional(
      literals(BYTE_ORDERS, { description: '32-bit values: big = high word at the lower address (ABCD), little = CDAB; default big' }),
    ),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'boolean point from one bit of a 16-bit register, 0 = LSB' })),
    access: Type.Optional(
      literals(['read', 'readwrite'] as const, { description: 'readwrite: coils and holding registers the gateway may write; default read' }),
    ),
  },
  { additionalProperties: false },
);
export type ModbusPoint = Static<typeof ModbusPoint>;

export const ModbusProfile = profileSchema('modbus', ModbusPoint, {
  modbus: Type.Optional(
    Type.Object(
      {
        maxRegistersPerRead: Type.Optional(Type.Integer({ minimum: 1, maximum: 125, description: 'FC3/FC4 quantity limit, default and §6.3 maximum 125' })),
        maxBitsPerRead: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, description: 'FC1/FC2 quantity limit, default and §6.1 maximum 2000' })),
        maxGap: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 16,
            description: 'Default 0. Unused addresses a read may span to join two blocks; only if the device answers for them',
          }),
        ),
      },
      { additionalProperties: false, description: 'Model limits for coalescing reads' },
    ),
  ),
});
export type ModbusProfile = Static<typeof ModbusProfile>;


function checkModbusPoint(point: ModbusPoint, at: string, file: string): void {
  const raw = modbusRawType(point);
  const bitTable = point.table === 'coil' || point.table === 'discrete';
  if (bitTable !== (raw === 'bool')) {
    throw new ProfileError(file, `${at}/rawType`, bitTable ? `a ${point.table} is a single bit: rawType bool` : `registers hold ${REGISTER_RAW_TYPES.join(', ')}, not bool`);
  }
  if (bitTable && point.type !== 'boolean') throw new ProfileError(file, `${at}/type`, `a ${point.table} point is boolean`);
  if (point.bit !== undefined && raw !== 'uint16' && raw !== 'int16') throw new ProfileError(file, `${at}/bit`, 'bit needs a 16-bit register');
  if (!bitTable && (point.type === 'boolean') !== (point.bit !== undefined)) {
    throw new ProfileError(file, `${at}/bit`, 'a boolean point of a register needs `bit`, and `bit` makes a boolean point');
  }
  if (point.type === 'string') throw new ProfileError(file, `${at}/type`, 'Modbus points are boolean or number');
  if (point.access === 'readwrite' && point.table !== 'coil' && point.table !== 'holding') {
    throw new ProfileError(file, `${at}/access`, 'only coils and holding registers are writable');
  }
  if (point.address + modbusWidth(point) > 65536) throw new ProfileError(file, `${at}/address`, 'point runs past address 65535');
  if (raw === 'float32' && (point.mask !== undefined || point.shift !== undefined)) throw new ProfileError(file, `${at}/mask`, 'mask/shift need an integer rawType');
}

export const modbusProfileTransport = defineProfileTransport({
  id: 'modbus',
  schema: ModbusProfile,
  check(profile, file) {
    profile.points.forEach((point, index) => checkModbusPoint(point, `/points/${index}`, file));
  },
  rawType: (point) => modbusRawType(point),
  extract(profile, input) {
    if (!('blocks' in input)) return { ok: false, reason: 'a Modbus profile decodes registers, not a byte report' };
    const values: RawPointValue<ModbusPoint>[] = [];
    for (const point of profile.points) {
      const width = modbusWidth(point);
      // A point not wholly inside one block gives no reading (a block whose read failed leaves its points out).
      const block = input.blocks.find((b) => b.table === point.table && point.address >= b.address && point.address + width <= b.address + b.values.length);
      if (!block) continue;
      const start = point.address - block.address;
      values.push({ point, raw: readModbusRaw(point, block.values.slice(start, start + width)), field: `${point.name} (${point.table} ${point.address})` });
    }
    return { ok: true, values };
  },
});
