// Schema pieces several transports use: a bus id, and a serial line's settings (Modbus RTU and
// framed serial devices both sit on RS-485/RS-232 lines), and the bus check at binding time.
import { Type } from '@sinclair/typebox';
import type { BindContext } from './descriptor.ts';

export const BusId = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$', description: 'Bus id, referred to by devices' });

export const SerialLine = {
  path: Type.String({ minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…' }),
  baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921600, description: 'Default 9600' })),
  parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { description: 'Default none' })),
  dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)], { description: 'Default 8' })),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Default 1' })),
};

/** The device's bus must be declared and of one of `kinds`; fails naming the block's `bus` path. */
export function requireBus<Block extends { bus: string }>(ctx: BindContext<Block>, kinds: readonly string[]): void {
  const { device, block, at, buses } = ctx;
  const bus = buses.get(block.bus);
  if (!bus) ctx.fail(`${at}/bus`, `device ${device.id}: unknown bus ${block.bus} (declared: ${[...buses.keys()].join(', ') || 'none'})`);
  else if (!kinds.includes(bus.kind)) ctx.fail(`${at}/bus`, `device ${device.id}: bus ${block.bus} is ${bus.kind}, expected ${kinds.join(' or ')}`);
}
