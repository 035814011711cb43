// "Silence is an alarm", end to end: a Modbus smoke detector (simulator over real Modbus TCP)
// behind an edge agent running as a child process. When the detector stops answering, a
// `device_offline` incident reaches the cloud (PGlite, REST API) within the bus's configured failed
// polls, and it clears when the detector answers again. The same for a Modbus TCP endpoint that
// nobody listens on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '@gridwatch/cloud';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import { eventually } from '../support/eventually.ts';
import { incidentsFor } from '../support/fixtures.ts';
import { freePort } from '../support/ports.ts';
import { spawnEdge, type EdgeProcess } from '../support/processes.ts';

const smoke = loadProfiles().profiles.get('generic/smoke-modbus')!.profile as ModbusProfile;
const POLL_MS = 250;
const TIMEOUT_MS = 250;
const MAX_BACKOFF_MS = 1000;
/** Three failed polls (back-off 250, 500, 1000 ms, each timing out) plus delivery to the cloud. */
const OFFLINE_WITHIN_MS = 250 + 500 + 1000 + 3 * TIMEOUT_MS + 5000;

let cloud: Cloud;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  cloud = await startCloud({ httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent' });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await cloud.stop();
});

async function edgeOn(gatewayId: string, deviceId: string, port: number): Promise<EdgeProcess> {
  const secret = randomBytes(16).toString('hex');
  await cloud.gateways.addGateway({ gatewayId, site: 'futian-test', secret });
  const dir = mkdtempSync(join(tmpdir(), `gridwatch-${gatewayId}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(
    configFile,
    stringify({
      version: 1,
      gateway: { id: gatewayId, site: 'futian-test' },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: cloud.mqttUrl, password: secret, resendAfterMs: 1000, reconnectPeriodMs: 200 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS, retries: 0, faultyAfter: 3, maxBackoffMs: MAX_BACKOFF_MS }],
      devices: [{ id: deviceId, profile: 'generic/smoke-modbus', addressId: 'FT-TEST-0001', modbus: { bus: 'tcp0', unitId: 1, pollIntervalMs: POLL_MS } }],
    }),
  );
  const edge = await spawnEdge(configFile);
  cleanups.push(() => edge.kill('SIGKILL'));
  return edge;
}

async function offlineIncident(deviceId: string, status: string, timeoutMs: number) {
  return eventually(
    `a ${status} device_offline incident for ${deviceId}`,
    async () => (await incidentsFor(cloud, deviceId)).find((i) => i.alarmType === 'device_offline' && i.status === status),
    timeoutMs,
  );
}

test('a Modbus smoke detector that stops answering becomes a device_offline incident, cleared when it answers again', async () => {
  const detector = new ModbusDeviceSim({ unitId: 1, profile: smoke });
  const sim = new ModbusTcpSim({ devices: [detector] });
  await sim.start();
  cleanups.push(() => sim.stop());
  const edge = await edgeOn('gw-sup-1', 'smoke-bus-e2e-1', sim.port);
  await edge.waitForLog((l) => l.msg === 'uplink subscribed', 15_000);
  await eventually('the detector polled', () => detector.requests > 2, 10_000);

  detector.setScenario('silent');
  const silentAt = Date.now();
  const incident = await offlineIncident('smoke-bus-e2e-1', 'raised', OFFLINE_WITHIN_MS + 5000);
  assert.ok(incident.raisedAt - silentAt <= OFFLINE_WITHIN_MS, `incident ${incident.raisedAt - silentAt} ms after the detector went silent (limit ${OFFLINE_WITHIN_MS})`);
  assert.equal(incident.gatewayId, 'gw-sup-1');
  assert.equal(incident.addressId, 'FT-TEST-0001');

  detector.setScenario('normal');
  const cleared = await offlineIncident('smoke-bus-e2e-1', 'cleared', MAX_BACKOFF_MS + 10_000);
  assert.equal(cleared.id, incident.id);
});

test('an unreachable Modbus TCP endpoint becomes a device_offline incident, cleared when it comes up', async () => {
  const port = await freePort();
  const startedAt = Date.now();
  await edgeOn('gw-sup-2', 'smoke-bus-e2e-2', port);
  const incident = await offlineIncident('smoke-bus-e2e-2', 'raised', OFFLINE_WITHIN_MS + 15_000);
  assert.ok(incident.raisedEdgeTime - startedAt <= OFFLINE_WITHIN_MS + 10_000, 'raised soon after the agent started');

  const sim = new ModbusTcpSim({ port, devices: [new ModbusDeviceSim({ unitId: 1, profile: smoke })] });
  await sim.start();
  cleanups.push(() => sim.stop());
  const cleared = await offlineIncident('smoke-bus-e2e-2', 'cleared', MAX_BACKOFF_MS + 10_000);
  assert.equal(cleared.id, incident.id);
});
