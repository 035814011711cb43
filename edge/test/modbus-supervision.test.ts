// Communication-loss supervision of polled devices, through the whole agent: a Modbus smoke
// detector (generic/smoke-modbus, simulator over real Modbus TCP) that stops answering raises
// `device_offline` within the bus's configured failed polls — long before its 3 × 60 s heartbeat
// time-out — and clears it when it answers again; the same for a Modbus TCP endpoint nobody
// listens on (before, it showed no faulty device at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import type { AlarmEvent } from '@gridwatch/protocol';
import { freePort } from '../../test/support/ports.ts';
import { resolveConfig, startAgent, type Agent } from '../src/index.ts';
import { captureLogger, eventually, startTestCloud, tempDir } from './helpers.ts';

const smoke = loadProfiles().profiles.get('generic/smoke-modbus')!.profile as ModbusProfile;
const POLL_MS = 200;
const TIMEOUT_MS = 200;
const FAULTY_AFTER = 3;
const MAX_BACKOFF_MS = 800;
/** Worst case from the last answer to the verdict: each failed poll waits its back-off, then times out. */
const OFFLINE_WITHIN_MS = [0, 1, 2].reduce((sum, n) => sum + Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** n) + TIMEOUT_MS, POLL_MS) + 1500;
/** A faulty device is polled every MAX_BACKOFF_MS; its first answer clears the alarm. */
const ONLINE_WITHIN_MS = MAX_BACKOFF_MS + TIMEOUT_MS + 1500;

async function agentOn(port: number, dataDir: string, cloudUrl: string): Promise<Agent> {
  const config = resolveConfig(
    {
      version: 1,
      gateway: { id: 'gw-sup', site: 'futian' },
      dataDir,
      cloud: { url: cloudUrl, password: 'pw', resendAfterMs: 300, reconnectPeriodMs: 200 },
      local: { mqttPort: 0, httpPort: 0 },
      buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS, retries: 0, faultyAfter: FAULTY_AFTER, maxBackoffMs: MAX_BACKOFF_MS }],
      devices: [{ id: 'smoke-bus-1', profile: 'generic/smoke-modbus', addressId: 'FT-0001', modbus: { bus: 'tcp0', unitId: 1, pollIntervalMs: POLL_MS } }],
    },
    'test-config',
    dataDir,
  );
  return startAgent(config, { logger: captureLogger().logger });
}

const offlineEvents = (agent: Agent): AlarmEvent[] => agent.outbox.pending(100).filter((e) => e.deviceId === 'smoke-bus-1' && e.alarmType === 'device_offline');

test('a Modbus smoke detector that stops answering raises device_offline within its failed polls and clears on its next answer', async () => {
  const detector = new ModbusDeviceSim({ unitId: 1, profile: smoke });
  const sim = new ModbusTcpSim({ devices: [detector] });
  await sim.start();
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const agent = await agentOn(sim.port, join(dir, 'data'), cloud.url);
  try {
    await eventually('the detector polled', () => detector.requests > 2);
    assert.deepEqual(offlineEvents(agent), [], 'an answering detector is not offline');
    detector.setScenario('silent');
    const silentAt = Date.now();
    const [raise] = await eventually('device_offline raised', () => offlineEvents(agent).length > 0 && offlineEvents(agent), OFFLINE_WITHIN_MS + 2000);
    assert.ok(raise!.edgeTime - silentAt <= OFFLINE_WITHIN_MS, `raised ${raise!.edgeTime - silentAt} ms after the detector went silent (limit ${OFFLINE_WITHIN_MS})`);
    assert.deepEqual([raise!.action, raise!.level, raise!.addressId], ['raise', 3, 'FT-0001']);
    assert.match(raise!.reason, /communication loss/);

    detector.setScenario('normal');
    const answeringAt = Date.now();
    const events = await eventually('device_offline cleared', () => offlineEvents(agent).length === 2 && offlineEvents(agent), ONLINE_WITHIN_MS + 2000);
    assert.equal(events[1]!.action, 'clear');
    assert.ok(events[1]!.edgeTime - answeringAt <= ONLINE_WITHIN_MS, `cleared ${events[1]!.edgeTime - answeringAt} ms after it answered again`);
    // It reaches the cloud like any alarm.
    await eventually('both at the cloud', () => {
      const ids = new Set(cloud.events.flatMap((m) => m.events.map((e) => e.id)));
      return events.every((e) => ids.has(e.id));
    });
  } finally {
    await agent.stop();
    await cloud.stop();
    await sim.stop();
    cleanup();
  }
});

test('an unreachable Modbus TCP endpoint marks its devices offline; they clear when it comes up', async () => {
  const port = await freePort();
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const startedAt = Date.now();
  const agent = await agentOn(port, join(dir, 'data'), cloud.url);
  let sim: ModbusTcpSim | null = null;
  try {
    const [raise] = await eventually('device_offline raised for the closed port', () => offlineEvents(agent).length > 0 && offlineEvents(agent), OFFLINE_WITHIN_MS + 2000);
    assert.equal(raise!.action, 'raise');
    assert.ok(raise!.edgeTime - startedAt <= OFFLINE_WITHIN_MS, `raised ${raise!.edgeTime - startedAt} ms after start (limit ${OFFLINE_WITHIN_MS})`);

    sim = new ModbusTcpSim({ port, devices: [new ModbusDeviceSim({ unitId: 1, profile: smoke })] });
    await sim.start();
    const events = await eventually('device_offline cleared once the endpoint listens', () => offlineEvents(agent).length === 2 && offlineEvents(agent), ONLINE_WITHIN_MS + 2000);
    assert.equal(events[1]!.action, 'clear');
  } finally {
    await agent.stop();
    await cloud.stop();
    await sim?.stop();
    cleanup();
  }
});
