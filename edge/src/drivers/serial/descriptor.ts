// The framed serial transport as the registry sees it: one device per `kind: serial` line.
import { serialProfileTransport } from '@gridwatch/firmware-profiles';
import { TransportProblem, type TransportDescriptor } from '../descriptor.ts';
import { textFlag } from '../flags.ts';
import { requireBus } from '../shared-schema.ts';
import { SerialDriver, validateSerialDevice } from './driver.ts';
import { isSerialBus, SerialBusSchemas, SerialDeviceSchema } from './schema.ts';

// Annotated rather than inferred: the config schema derives its types from this descriptor's.
export const serialTransport: TransportDescriptor<'serial', typeof SerialDeviceSchema, typeof SerialBusSchemas> = {
  id: 'serial',
  profile: serialProfileTransport,
  device: SerialDeviceSchema,
  buses: SerialBusSchemas,
  bind(ctx) {
    requireBus(ctx, Object.keys(SerialBusSchemas));
    // One talker per line: a second device would interleave its frames with the first's.
    const other = ctx.claim(ctx.block.bus);
    if (other !== undefined) ctx.fail(ctx.at, `device ${ctx.device.id}: serial bus ${ctx.block.bus} already carries ${other}`);
  },
  validateDevice: validateSerialDevice,
  createDriver({ config, devices, logger, metrics }) {
    if (devices.length === 0) return null;
    return new SerialDriver({ buses: config.buses.filter(isSerialBus), devices, logger, metrics });
  },
  describe: (block) => `serial ${block.bus}`,
  cli: {
    options: [['--bus <id>', 'bus the device sits on (Modbus and serial devices)']],
    blockFromFlags(deviceId, profileId, flags, base, nameOf) {
      const bus = textFlag(flags, 'bus') ?? base?.bus;
      if (!bus) throw new TransportProblem(`device ${deviceId}: profile ${profileId} is serial and needs its line`, 'usage', `pass ${nameOf('bus')} <serial bus id>`);
      return { bus };
    },
  },
};
