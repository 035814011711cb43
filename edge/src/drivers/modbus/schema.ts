// Configuration of Modbus buses (RTU lines, TCP endpoints) and of a device's `modbus:` block.
import { Type, type Static } from '@sinclair/typebox';
import { BusId, SerialLine } from '../shared-schema.ts';

const Polling = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60000, description: 'Answer timeout per request; default 500 (RTU), 1000 (TCP)' })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: 'Extra attempts after a timeout or CRC error; default 1' })),
  maxBackoffMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3600000, description: 'Cap of a silent device back-off; default 60000' })),
  faultyAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Failed polls in a row before a device is faulty; default 3' })),
};

export const ModbusBusSchemas = {
  rtu: Type.Object({ id: BusId, kind: Type.Literal('rtu', { description: 'Modbus RTU on a serial line (RS-485)' }), ...SerialLine, ...Polling }, { additionalProperties: false }),
  tcp: Type.Object(
    {
      id: BusId,
      kind: Type.Literal('tcp', { description: 'Modbus TCP server or RTU-to-TCP gateway' }),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Usually 502' }),
      ...Polling,
    },
    { additionalProperties: false },
  ),
};
export type ModbusBusConfig = Static<(typeof ModbusBusSchemas)['rtu']> | Static<(typeof ModbusBusSchemas)['tcp']>;

/** MSL §2.2: slave addresses 1–247 on a serial line; behind a TCP gateway the unit identifier. */
export const UNIT_ID_RANGE = { min: 1, max: 247 } as const;

export const ModbusDeviceSchema = Type.Object(
  {
    bus: BusId,
    unitId: Type.Integer({ minimum: UNIT_ID_RANGE.min, maximum: UNIT_ID_RANGE.max, description: 'Slave address on the line, or unit id behind a TCP gateway' }),
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 3600000, description: 'Default 1000' })),
  },
  { additionalProperties: false, description: 'A device on a Modbus bus declared in `buses`' },
);
export type ModbusDeviceConfig = Static<typeof ModbusDeviceSchema>;

export function isModbusBus(bus: { kind: string }): bus is ModbusBusConfig {
  return Object.hasOwn(ModbusBusSchemas, bus.kind);
}
