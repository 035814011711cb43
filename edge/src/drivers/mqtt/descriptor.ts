// The MQTT transport as the registry sees it: devices with their own credentials on the agent's
// local broker. The broker always runs, so devices can be added while the agent is up.
import { mqttProfileTransport } from '@gridwatch/firmware-profiles';
import mqtt from 'mqtt';
import { Type } from '@sinclair/typebox';
import { TransportProblem, type TransportDescriptor } from '../descriptor.ts';
import { textFlag } from '../flags.ts';
import { MqttDriver } from './driver.ts';
import { upTopic } from './topics.ts';
import { testScript } from './test-script.ts';

export const MqttDeviceSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128, description: 'Username the device presents at CONNECT' }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false, description: 'Credentials of a device speaking MQTT to the local broker' },
);

// Annotated rather than inferred: the config schema derives its types from this descriptor's.
export const mqttTransport: TransportDescriptor<'mqtt', typeof MqttDeviceSchema, Record<string, never>> = {
  id: 'mqtt',
  profile: mqttProfileTransport,
  device: MqttDeviceSchema,
  buses: {},
  bind(ctx) {
    // The broker finds the device by the username it presents, so two devices cannot share one.
    const other = ctx.claim(`username/${ctx.block.username}`);
    if (other !== undefined) ctx.fail(`${ctx.at}/username`, `duplicate mqtt.username ${ctx.block.username} (also ${other})`);
  },
  validateDevice({ device, profile }) {
    if (profile.transport !== 'mqtt') return `profile ${profile.id} is not an MQTT profile`;
    if (!device.mqtt) return 'no mqtt credentials';
    return null;
  },
  createDriver: ({ config, devices, logger, metrics }) => new MqttDriver({ host: config.local.host, port: config.local.mqttPort, devices, logger, metrics }),
  describe: (block) => `mqtt ${block.username}`,
  cli: {
    options: [
      ['--mqtt-username <name>', 'MQTT detectors: username (default: the device id)'],
      ['--mqtt-password <secret>', 'MQTT detectors: password'],
    ],
    blockFromFlags(deviceId, profileId, flags, base, nameOf) {
      const username = textFlag(flags, 'mqttUsername') ?? base?.username ?? deviceId;
      const password = textFlag(flags, 'mqttPassword') ?? base?.password;
      if (!password) {
        throw new TransportProblem(`device ${deviceId}: profile ${profileId} is MQTT and needs the password the detector presents`, 'usage', `pass ${nameOf('mqttPassword')} <secret> (and ${nameOf('mqttUsername')} when it is not the device id)`);
      }
      return { username, password };
    },
    async simulateTest({ device, profile }, agent, vectors) {
      const script = testScript(vectors);
      if (!device.mqtt || !script) throw new TransportProblem(`--simulate needs a test case in the vectors of ${profile.id}`, 'usage', 'press the detector’s test button instead (run without --simulate)');
      let client: mqtt.MqttClient;
      try {
        client = await mqtt.connectAsync(`mqtt://${agent.host}:${agent.localPort}`, { username: device.mqtt.username, password: device.mqtt.password, clientId: device.id, reconnectPeriod: 0, connectTimeout: 5000 });
      } catch (err) {
        throw new TransportProblem(`cannot reach the agent's local broker (${(err as Error).message})`, 'unreachable', 'start the agent: systemctl start gridwatch-edge.service');
      }
      await client.publishAsync(upTopic(device.id), JSON.stringify(script.press), { qos: 1 });
      return async () => {
        await client.publishAsync(upTopic(device.id), JSON.stringify(script.release), { qos: 1 });
        await client.endAsync();
      };
    },
  },
};
