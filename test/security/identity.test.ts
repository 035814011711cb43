// Attack: client-id takeover and identity forgery on both embedded brokers. A gateway (or local
// device) with valid credentials of its own tries to connect under another identity's client id,
// which (MQTT-3.1.4-2) would close the victim's session. Accepted = the CONNECT succeeded or the
// victim's session was closed. The rule that remains: the same identity with its current
// credential may replace its own session (takeover), and that is counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { startAgent } from '../../edge/src/index.ts';
import { DEVICE, agentConfig, captureLogger, startTestCloud, tempDir } from '../../edge/test/helpers.ts';
import { Tally, closed, connectAs, tryConnect } from './support.ts';

const A = { gatewayId: 'gw-id-a', site: 'site-a', secret: 'identity-secret-a' };
const B = { gatewayId: 'gw-id-b', site: 'site-b', secret: 'identity-secret-b' };
let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
  await cloud.gateways.addGateway(A);
  await cloud.gateways.addGateway(B);
});

after(async () => {
  await cloud?.stop();
});

async function metric(name: string): Promise<number> {
  const text = await cloud.metrics.registry.getSingleMetricAsString(name);
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

test('cloud broker: no credential connects under another gateway’s client id; the victim stays connected', async () => {
  const tally = new Tally();
  const victim: MqttClient = await connectAs(cloud.mqttUrl, { clientId: B.gatewayId, username: B.gatewayId, password: B.secret });
  let victimClosed = 0;
  victim.on('close', () => (victimClosed += 1));
  try {
    for (const clientId of [B.gatewayId, `${A.gatewayId}-x`, 'gw-id', '', 'gridwatch-ingest-alarms-1']) {
      const result = await tryConnect(cloud.mqttUrl, { clientId, username: A.gatewayId, password: A.secret });
      tally.record('foreign client id', result.accepted);
    }
    // A wrong secret under the victim's own id and username must not close its session either.
    const guess = await tryConnect(cloud.mqttUrl, { clientId: B.gatewayId, username: B.gatewayId, password: 'not-b-secret!' });
    tally.record('guessed secret with the victim’s id', guess.accepted);
    // Publishing still works for the victim: its session was never replaced (a closed session
    // would leave the QoS 1 publish unanswered, so its close ends the wait).
    const published = victim.connected
      ? await Promise.race([victim.publishAsync(`gw/${B.site}/${B.gatewayId}/status`, JSON.stringify({ v: 1, gatewayId: B.gatewayId, state: 'online', t: Date.now() }), { qos: 1 }).then(() => true), closed(victim).then(() => false)])
      : false;
    tally.record('victim session closed', victimClosed > 0 || !published);
  } finally {
    await victim.endAsync(true);
  }
  tally.assertNoneAccepted();
});

test('cloud broker: the same gateway with its current secret takes over its own session, counted', async () => {
  const before = await metric('gridwatch_mqtt_takeovers_total');
  const first = await connectAs(cloud.mqttUrl, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret });
  const firstClosed = closed(first);
  const second = await connectAs(cloud.mqttUrl, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret });
  await firstClosed;
  assert.ok(second.connected);
  assert.equal(await metric('gridwatch_mqtt_takeovers_total'), before + 1);
  await second.endAsync(true);
  await first.endAsync(true);
});

async function edgeTakeovers(httpPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^gridwatch_edge_device_takeovers_total\{result="(\w+)"\} (\d+)/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

test('edge local broker: a device credential cannot connect under another device’s id; attempts are counted', async () => {
  const upstream = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const agent = await startAgent(agentConfig(join(dir, 'data'), upstream.url), { logger: captureLogger().logger });
  const url = `mqtt://127.0.0.1:${agent.localMqttPort}`;
  const tally = new Tally();
  try {
    const victim = await connectAs(url, { clientId: 'smoke-2', username: 'smoke-2', password: 'other-password' });
    let victimClosed = false;
    victim.on('close', () => (victimClosed = true));
    for (const clientId of ['smoke-2', `${DEVICE.id}-x`, 'anything']) {
      tally.record('foreign client id', (await tryConnect(url, { clientId, username: DEVICE.username, password: DEVICE.password })).accepted);
    }
    // The victim's own id and username with a wrong password: refused too, and counted.
    tally.record('guessed password with the victim’s id', (await tryConnect(url, { clientId: 'smoke-2', username: 'smoke-2', password: 'not-the-password' })).accepted);
    // Two takeover attempts named a configured device's client id (smoke-2); the made-up ids did not.
    assert.deepEqual(await edgeTakeovers(agent.httpPort), { refused: 2 });
    const published = victim.connected ? await Promise.race([victim.publishAsync('dev/smoke-2/up', JSON.stringify({ alarm: false }), { qos: 1 }).then(() => true), closed(victim).then(() => false)]) : false;
    tally.record('victim session closed', victimClosed || !published);
    const own = await tryConnect(url, { clientId: DEVICE.id, username: DEVICE.username, password: DEVICE.password });
    assert.equal(own.accepted, true, 'the device under its own id is accepted');
    // The owner replacing its own live session (MQTT-3.1.4-2) is allowed and counted as such.
    const first = await connectAs(url, { clientId: DEVICE.id, username: DEVICE.username, password: DEVICE.password });
    const firstClosed = closed(first);
    const second = await connectAs(url, { clientId: DEVICE.id, username: DEVICE.username, password: DEVICE.password });
    await firstClosed;
    assert.deepEqual(await edgeTakeovers(agent.httpPort), { refused: 2, owner: 1 });
    await second.endAsync(true);
    await first.endAsync(true);
    await victim.endAsync(true);
  } finally {
    await agent.stop();
    await upstream.stop();
    cleanup();
  }
  tally.assertNoneAccepted();
});

test('planted regression: the edge broker with its identity binding off (MqttDriverOptions.clientIdAllowed) lets smoke-1 take over smoke-2', async () => {
  const { MqttDriver, bindDevices, createMetrics } = await import('../../edge/src/index.ts');
  const { loadProfiles } = await import('@gridwatch/firmware-profiles');
  const { dir, cleanup } = tempDir();
  const config = agentConfig(join(dir, 'data'), 'mqtt://127.0.0.1:1');
  const devices = [...bindDevices(config, loadProfiles(config.profilesDir)).values()];
  const driver = new MqttDriver({ host: '127.0.0.1', port: 0, devices, logger: captureLogger().logger, metrics: createMetrics(() => 0), clientIdAllowed: () => true });
  await driver.start(() => undefined);
  const url = `mqtt://127.0.0.1:${driver.port}`;
  const tally = new Tally();
  try {
    const victim = await connectAs(url, { clientId: 'smoke-2', username: 'smoke-2', password: 'other-password' });
    const victimClosed = closed(victim);
    tally.record('foreign client id', (await tryConnect(url, { clientId: 'smoke-2', username: DEVICE.username, password: DEVICE.password })).accepted);
    tally.record('victim session closed', await Promise.race([victimClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000))]));
    await victim.endAsync(true);
  } finally {
    await driver.stop();
    cleanup();
  }
  assert.deepEqual(Object.values(tally.summary()).map((c) => c.accepted), [1, 1]);
});
