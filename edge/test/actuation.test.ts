// Local actuation with the uplink cut: a gas reading above 25 %LEL switches the simulated siren
// coil (Modbus TCP) within 500 ms, the write is confirmed by read-back, and a second alarm within
// the rate limit does not write again at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import { resolveConfig, startAgent } from '../src/index.ts';
import { captureLogger, tempDir, eventually } from './helpers.ts';

const profiles = loadProfiles();
const profile = (id: string) => profiles.profiles.get(id)!.profile as ModbusProfile;

async function deadPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test('uplink cut: gas above 25 %LEL sounds the siren coil within 500 ms, confirmed by read-back', async () => {
  const gas = new ModbusDeviceSim({ unitId: 3, profile: profile('generic/gas-lel-modbus') });
  const relay = new ModbusDeviceSim({ unitId: 5, profile: profile('generic/siren-relay-modbus') });
  gas.set('gas_concentration', 3);
  const tcp = new ModbusTcpSim({ devices: [gas, relay] });
  await tcp.start();
  const { dir, cleanup } = tempDir();
  const { logger, lines } = captureLogger();
  const dataDir = join(dir, 'data');
  const config = resolveConfig(
    {
      version: 1,
      gateway: { id: 'gw-act', site: 'futian' },
      dataDir,
      cloud: { url: `mqtt://127.0.0.1:${await deadPort()}`, password: 'pw', reconnectPeriodMs: 200 },
      local: { mqttPort: 0, httpPort: 0 },
      buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: tcp.port, timeoutMs: 300 }],
      devices: [
        { id: 'gas-1', profile: 'generic/gas-lel-modbus', modbus: { bus: 'tcp0', unitId: 3, pollIntervalMs: 100 } },
        { id: 'siren-1', profile: 'generic/siren-relay-modbus', modbus: { bus: 'tcp0', unitId: 5, pollIntervalMs: 1000 } },
      ],
      actuators: [
        { when: { device: 'gas-1', alarmType: 'gas_low' }, target: { device: 'siren-1', point: 'siren' }, onRaise: true, onClear: false, minIntervalMs: 1500 },
      ],
    },
    'test-config',
    dataDir,
  );
  const agent = await startAgent(config, { logger });
  try {
    await eventually('first gas poll', () => lines.some((l) => l.msg === 'edge ready') && agent.health().uplink === 'disconnected');
    // Both devices decoded at least once: the low gas reading went through the rules, and the siren stays off.
    await eventually('gas-1 and siren-1 read', async () => {
      const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
      return /^gridwatch_edge_readings_total\{device="gas-1"\} [1-9]/m.test(text) && /^gridwatch_edge_readings_total\{device="siren-1"\} [1-9]/m.test(text);
    });
    assert.deepEqual(relay.getRaw('coil', 0, 1), [0]);
    const started = Date.now();
    gas.set('gas_concentration', 30);
    await eventually('siren coil on', () => relay.getRaw('coil', 0, 1)[0] === 1, 2000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= 500, `siren switched after ${elapsed} ms (limit 500 ms)`);
    assert.equal(agent.health().uplink, 'disconnected', 'the uplink never came up');
    await eventually('read-back confirmation', () => lines.some((l) => l.msg === 'actuation confirmed' && l.deviceId === 'siren-1'), 3000);

    // Clear and raise again within the rate limit: the clear write waits for the interval to end.
    gas.set('gas_concentration', 0);
    await eventually('gas_low cleared', () => agent.outbox.pending(20).some((e) => e.alarmType === 'gas_low' && e.action === 'clear'));
    assert.deepEqual(relay.getRaw('coil', 0, 1), [1], 'rate-limited: the clear is not written within minIntervalMs');
    await eventually('siren off after the interval', () => relay.getRaw('coil', 0, 1)[0] === 0, 3000);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
    assert.match(metrics, /gridwatch_edge_actuations_total\{result="rate_limited"\} [1-9]/);
    assert.match(metrics, /gridwatch_edge_actuations_total\{result="confirmed"\} [1-9]/);
  } finally {
    await agent.stop();
    await tcp.stop();
    cleanup();
  }
});
