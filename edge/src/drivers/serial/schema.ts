// Configuration of a framed serial line (one device per line) and of a device's `serial:` block.
import { Type, type Static } from '@sinclair/typebox';
import { BusId, SerialLine } from '../shared-schema.ts';

export const SerialBusSchemas = {
  serial: Type.Object({ id: BusId, kind: Type.Literal('serial', { description: 'Framed serial line (one device)' }), ...SerialLine }, { additionalProperties: false }),
};
export type SerialBusConfig = Static<(typeof SerialBusSchemas)['serial']>;

export const SerialDeviceSchema = Type.Object({ bus: BusId }, { additionalProperties: false, description: 'A device on a framed serial bus declared in `buses`' });
export type SerialDeviceConfig = Static<typeof SerialDeviceSchema>;

export function isSerialBus(bus: { kind: string }): bus is SerialBusConfig {
  return Object.hasOwn(SerialBusSchemas, bus.kind);
}
