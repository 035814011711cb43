// The Modbus transport as the registry sees it: RTU lines and TCP endpoints, a device's unit id on
// one of them, one BusScheduler per bus, reads of every point for `gridwatch read` and a unit-id
// probe for `gridwatch scan`.
import { modbusProfileTransport, type ModbusProfile, type RegisterBlock } from '@gridwatch/firmware-profiles';
import { TransportProblem, type TransportDescriptor, type Discovery } from '../descriptor.ts';
import { integerFlag, textFlag } from '../flags.ts';
import { requireBus } from '../shared-schema.ts';
import { ModbusIoError, ModbusSerialTransport } from './client.ts';
import { DEFAULT_POLL_INTERVAL_MS, ModbusDriver, endpointOf, validateModbusDevice } from './driver.ts';
import { planReads } from './plan.ts';
import { isModbusBus, ModbusBusSchemas, ModbusDeviceSchema, UNIT_ID_RANGE, type ModbusBusConfig } from './schema.ts';

function defaultTimeoutMs(bus: ModbusBusConfig): number {
  return bus.timeoutMs ?? (bus.kind === 'rtu' ? 500 : 1000);
}

/** Opens a bus for the CLI; the agent holding the line is the usual reason this fails. */
async function openForCli(bus: ModbusBusConfig): Promise<ModbusSerialTransport> {
  const transport = new ModbusSerialTransport(endpointOf(bus));
  try {
    await transport.open();
  } catch (err) {
    throw new TransportProblem((err as Error).message, 'unreachable', 'check the cable/adapter path, and stop the agent (systemctl stop gridwatch-edge.service) while you scan or read: one program per serial line');
  }
  return transport;
}

function modbusBus(buses: readonly { id: string; kind: string }[], busId: string): ModbusBusConfig {
  const bus = buses.find((b) => b.id === busId);
  if (!bus || !isModbusBus(bus)) {
    const modbus = buses.filter(isModbusBus).map((b) => b.id);
    throw new TransportProblem(`no Modbus bus ${busId} in the config`, 'usage', `declare it under buses, or use one of: ${modbus.join(', ') || 'none'}`);
  }
  return bus;
}

const discovery: Discovery = {
  address: { name: 'unit id', flag: 'unit-id', ...UNIT_ID_RANGE },
  async scan(bus, { from, to, timeoutMs }, onProbe) {
    const transport = await openForCli(modbusBus([bus], bus.id));
    const found: Array<{ address: number; answer: string }> = [];
    try {
      for (let unitId = from; unitId <= to; unitId++) {
        try {
          await transport.read(unitId, { table: 'holding', address: 0, count: 1 }, timeoutMs);
          found.push({ address: unitId, answer: 'registers' });
        } catch (err) {
          // An exception answer still proves a slave is there (MAP §7); silence or noise does not.
          if (err instanceof ModbusIoError && err.kind === 'exception') found.push({ address: unitId, answer: err.message });
          else if (!(err instanceof ModbusIoError) || (err.kind !== 'timeout' && err.kind !== 'crc')) throw err;
        }
        onProbe(found.length);
      }
    } finally {
      await transport.close();
    }
    return found;
  },
  addressOf: (device, busId) => (device.modbus?.bus === busId ? device.modbus.unitId : undefined),
};

// Annotated rather than inferred: the config schema derives its types from this descriptor's.
export const modbusTransport: TransportDescriptor<'modbus', typeof ModbusDeviceSchema, typeof ModbusBusSchemas> = {
  id: 'modbus',
  profile: modbusProfileTransport,
  device: ModbusDeviceSchema,
  buses: ModbusBusSchemas,
  bind(ctx) {
    requireBus(ctx, Object.keys(ModbusBusSchemas));
    const other = ctx.claim(`${ctx.block.bus}/${ctx.block.unitId}`);
    if (other !== undefined) ctx.fail(ctx.at, `device ${ctx.device.id}: unit ${ctx.block.unitId} on ${ctx.block.bus} is already ${other}`);
  },
  validateDevice: validateModbusDevice,
  createDriver({ config, devices, logger, metrics }) {
    if (devices.length === 0) return null;
    return new ModbusDriver({ buses: config.buses.filter(isModbusBus), devices, logger, metrics });
  },
  describe: (block) => `${block.bus} unit ${block.unitId}`,
  cli: {
    options: [
      ['--bus <id>', 'bus the device sits on (Modbus and serial devices)'],
      ['--unit-id <n>', `Modbus slave / unit id (${UNIT_ID_RANGE.min}–${UNIT_ID_RANGE.max})`],
      ['--poll-ms <ms>', `Modbus poll interval (default ${DEFAULT_POLL_INTERVAL_MS})`],
    ],
    blockFromFlags(deviceId, profileId, flags, base, nameOf) {
      const bus = textFlag(flags, 'bus') ?? base?.bus;
      const unitId = integerFlag(flags, 'unitId', nameOf, UNIT_ID_RANGE) ?? base?.unitId;
      if (!bus || unitId === undefined) {
        throw new TransportProblem(`device ${deviceId}: profile ${profileId} is Modbus and needs a bus and a unit id`, 'usage', `pass ${nameOf('bus')} <bus id> and ${nameOf('unitId')} <${UNIT_ID_RANGE.min}–${UNIT_ID_RANGE.max}>`);
      }
      const poll = integerFlag(flags, 'pollMs', nameOf, { min: 50, max: 3_600_000 }) ?? base?.pollIntervalMs;
      return { bus, unitId, ...(poll === undefined ? {} : { pollIntervalMs: poll }) };
    },
    async readOnce({ device, profile }, config) {
      const block = device.modbus!;
      const bus = modbusBus(config.buses, block.bus);
      const transport = await openForCli(bus);
      try {
        const blocks: RegisterBlock[] = [];
        for (const request of planReads(profile as ModbusProfile)) {
          try {
            blocks.push({ table: request.table, address: request.address, values: await transport.read(block.unitId, request, defaultTimeoutMs(bus)) });
          } catch (err) {
            if (err instanceof ModbusIoError && err.kind === 'timeout') {
              throw new TransportProblem(`device ${device.id}: no answer from unit ${block.unitId} on ${block.bus}`, 'failed', `check the unit id (gridwatch scan --bus ${block.bus}), wiring (A/B), baud rate and power`);
            }
            throw new TransportProblem(`device ${device.id}: ${(err as Error).message}`, 'failed', 'check the profile matches the device model');
          }
        }
        return { blocks };
      } finally {
        await transport.close();
      }
    },
  },
  discovery,
};
