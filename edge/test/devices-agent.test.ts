// The agent started from an installation file with Modbus TCP and serial devices: readings from
// real simulators flow through decode → rules → outbox, local actuation writes a coil, and bad
// serial input is counted per device without disturbing anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles, type ModbusProfile, type SerialProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim, PtyPair, SerialDeviceSim } from '@gridwatch/sim';
import { resolveConfig, startAgent } from '../src/index.ts';
import { captureLogger, startTestCloud, tempDir, eventually } from './helpers.ts';

const profiles = loadProfiles();
const profile = <T>(id: string) => profiles.profiles.get(id)!.profile as T;

test('Modbus TCP and serial devices from the installation file raise events through the pipeline', async () => {
  const gas = new ModbusDeviceSim({ unitId: 3, profile: profile<ModbusProfile>('generic/gas-lel-modbus') });
  const relay = new ModbusDeviceSim({ unitId: 5, profile: profile<ModbusProfile>('generic/siren-relay-modbus') });
  gas.set('gas_concentration', 4);
  const tcp = new ModbusTcpSim({ devices: [gas, relay] });
  await tcp.start();
  const pty = new PtyPair();
  await pty.start();
  const door = new SerialDeviceSim({ path: pty.b, profile: profile<SerialProfile>('generic/door-access-serial'), template: '02 01 45' });
  await door.start();
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const { logger } = captureLogger();
  const dataDir = join(dir, 'data');
  const config = resolveConfig(
    {
      version: 1,
      gateway: { id: 'gw-io', site: 'futian' },
      dataDir,
      cloud: { url: cloud.url, password: 'pw', resendAfterMs: 300, reconnectPeriodMs: 200 },
      local: { mqttPort: 0, httpPort: 0 },
      buses: [
        { id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: tcp.port, timeoutMs: 300 },
        { id: 'door0', kind: 'serial', path: pty.a, baudRate: 9600 },
      ],
      devices: [
        { id: 'gas-1', profile: 'generic/gas-lel-modbus', addressId: 'FT-0001', modbus: { bus: 'tcp0', unitId: 3, pollIntervalMs: 100 } },
        { id: 'siren-1', profile: 'generic/siren-relay-modbus', modbus: { bus: 'tcp0', unitId: 5, pollIntervalMs: 100 } },
        { id: 'door-1', profile: 'generic/door-access-serial', serial: { bus: 'door0' } },
      ],
    },
    'test-config',
    dataDir,
  );
  const agent = await startAgent(config, { logger });
  const metrics = async () => (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  try {
    await eventually('gas readings', async () => /^gridwatch_edge_readings_total\{device="gas-1"\} [1-9]/m.test(await metrics()));
    gas.set('gas_concentration', 30);
    await eventually('gas_low raised', () => agent.outbox.pending(10).find((e) => e.alarmType === 'gas_low'));
    const raised = agent.outbox.pending(10).find((e) => e.alarmType === 'gas_low')!;
    assert.deepEqual([raised.deviceId, raised.action, raised.level, raised.addressId], ['gas-1', 'raise', 2, 'FT-0001']);
    assert.equal(raised.readings?.gas_concentration, 30);

    // Local actuation: the siren coil is written ahead of the polls.
    await agent.command('siren-1', [{ point: 'siren', value: true }]);
    assert.deepEqual(relay.getRaw('coil', 0, 1), [1]);
    await assert.rejects(agent.command('door-1', [{ point: 'door_open', value: true }]), /no commands/);

    // Serial: a forced door raises; noise and a bad checksum are counted, the next frame still works.
    await eventually('door port open', async () => {
      door.set('door_open', true);
      door.set('forced_open', true);
      await door.report();
      await new Promise((r) => setTimeout(r, 50));
      return agent.outbox.pending(10).find((e) => e.alarmType === 'forced_open');
    });
    await door.writeRaw(Buffer.from([0xff, 0x00, 0x13]));
    door.setScenario('corrupt');
    await door.report();
    await eventually('bad serial input counted', async () => {
      const text = await metrics();
      return /^gridwatch_edge_device_errors_total\{device="door-1",kind="garbage"\} [1-9]/m.test(text) && /^gridwatch_edge_decode_errors_total\{device="door-1"\} [1-9]/m.test(text);
    });
    door.setScenario('normal');
    door.set('forced_open', false);
    await door.report();
    await eventually('forced_open cleared', () => agent.outbox.pending(20).find((e) => e.alarmType === 'forced_open' && e.action === 'clear'));
  } finally {
    await agent.stop();
    await door.stop();
    await pty.stop();
    await tcp.stop();
    await cloud.stop();
    cleanup();
  }
});
