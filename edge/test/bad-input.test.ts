// Hostile or broken devices: refused at CONNECT, held to their own topic, and malformed reports
// counted without disturbing the next good report or other devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startAgent } from '../src/index.ts';
import { DEVICE, agentConfig, captureLogger, connectDevice, startTestCloud, tempDir, eventually } from './helpers.ts';

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

test('bad credentials are refused at CONNECT, publishes outside the device topic drop the connection', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const { logger } = captureLogger();
  const agent = await startAgent(agentConfig(join(dir, 'data'), cloud.url), { logger });
  try {
    // CONNACK return code 4, "bad user name or password" (MQTT 3.1.1 §3.2.2.3).
    await assert.rejects(connectDevice(agent.localMqttPort, DEVICE.username, 'wrong'), (err: Error & { code?: number }) => {
      assert.equal(err.code, 4);
      return true;
    });
    await assert.rejects(connectDevice(agent.localMqttPort, 'nobody', DEVICE.password), (err: Error & { code?: number }) => err.code === 4);
    assert.match(await metricsText(agent.httpPort), /^gridwatch_edge_device_connect_refused_total\{reason="bad_credentials"\} 2$/m);

    // smoke-1 pretending to be smoke-2: the broker closes the connection and nothing is decoded.
    const device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('dev/smoke-2/up', JSON.stringify({ alarm: true }), { qos: 1 });
    await closed;
    await device.endAsync(true);
    assert.match(await metricsText(agent.httpPort), /^gridwatch_edge_device_publish_refused_total\{device="smoke-1"\} 1$/m);
    assert.equal(agent.outbox.pendingCount(), 0);
  } finally {
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});

test('malformed reports are counted per device and the next good report still raises', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const { logger, lines } = captureLogger();
  const agent = await startAgent(agentConfig(join(dir, 'data'), cloud.url), { logger });
  const clients: MqttClient[] = [];
  try {
    const device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    const other = await connectDevice(agent.localMqttPort, 'smoke-2', 'other-password');
    clients.push(device, other);
    await device.publishAsync('dev/smoke-1/up', 'not json', { qos: 1 });
    await device.publishAsync('dev/smoke-1/up', '[1,2]', { qos: 1 });
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: 'yes' }), { qos: 1 });
    await eventually('three decode errors', async () =>
      /^gridwatch_edge_decode_errors_total\{device="smoke-1"\} 3$/m.test(await metricsText(agent.httpPort)),
    );
    const rejected = lines.filter((l) => l.msg === 'device report rejected');
    assert.equal(rejected.length, 3);
    assert.equal(rejected[0]?.level, 40); // pino warn
    assert.match(String(rejected[2]?.reason), /^alarm: expected boolean, got string$/);

    // The other device is unaffected, and so is smoke-1's next good report.
    await other.publishAsync('dev/smoke-2/up', JSON.stringify({ tamper: true }), { qos: 1 });
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });
    await eventually('both events committed', () => agent.outbox.pendingCount() === 2);
    const events = agent.outbox.pending(10).map((e) => `${e.deviceId} ${e.action} ${e.alarmType} ${e.level}`);
    assert.deepEqual(events, ['smoke-2 raise tamper 3', 'smoke-1 raise smoke 1']);
    assert.doesNotMatch(await metricsText(agent.httpPort), /decode_errors_total\{device="smoke-2"\}/);
  } finally {
    for (const client of clients) await client.endAsync();
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});

test('the agent runs and keeps events while the cloud is unreachable', async () => {
  const cloud = await startTestCloud();
  const url = cloud.url;
  await cloud.stop();
  const { dir, cleanup } = tempDir();
  const { logger } = captureLogger();
  const agent = await startAgent(agentConfig(join(dir, 'data'), url), { logger });
  try {
    const device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });
    await eventually('event kept', () => agent.outbox.pendingCount() === 1);
    const { outbox, ...health } = (await (await fetch(`http://127.0.0.1:${agent.httpPort}/healthz`)).json()) as { outbox: { pending: number; telemetry?: { readings: number } } };
    assert.ok(outbox.telemetry, 'the telemetry lane reports itself');
    Object.assign(health, { outbox: { pending: outbox.pending } });
    assert.deepEqual(health, { status: 'degraded', uplink: 'disconnected', outbox: { pending: 1 } });
    await device.endAsync();
  } finally {
    await agent.stop();
    cleanup();
  }
});
