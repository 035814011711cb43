// The agent end to end with real peers: a device on the local broker, a real aedes broker as the
// cloud and an mqtt.js client playing ingest. An event leaves the outbox only on the cloud's ack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlarmEvent } from '@gridwatch/protocol';
import { startAgent } from '../src/index.ts';
import { DEVICE, agentConfig, captureLogger, connectDevice, startTestCloud, tempDir, eventually } from './helpers.ts';

test('an alarm travels device → outbox → cloud, is resent until acked, then clears', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const { logger, lines } = captureLogger();
  const config = agentConfig(join(dir, 'data'), cloud.url);
  let agent = await startAgent(config, { logger });
  try {
    const ready = lines.find((l) => l.msg === 'edge ready');
    assert.ok(ready);
    assert.deepEqual([ready.gatewayId, ready.localMqttPort, ready.httpPort], ['gw-01', agent.localMqttPort, agent.httpPort]);
    const runtime = JSON.parse(readFileSync(join(config.dataDir, 'runtime.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([runtime.localMqttPort, runtime.httpPort], [agent.localMqttPort, agent.httpPort]);

    await eventually('online status', () => cloud.statuses.find((s) => s.gatewayId === 'gw-01' && s.state === 'online'));

    const device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    const before = Date.now();
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });

    const sent = (id: string): AlarmEvent[] => cloud.events.flatMap((m) => m.events).filter((e) => e.id === id);
    const [raise] = await eventually('raise event', () => sent('gw-01:1').length > 0 && sent('gw-01:1'));
    assert.ok(raise);
    assert.equal(cloud.events[0]?.gatewayId, 'gw-01');
    assert.deepEqual(
      { seq: raise.seq, deviceId: raise.deviceId, action: raise.action, alarmType: raise.alarmType, level: raise.level, addressId: raise.addressId },
      { seq: 1, deviceId: 'smoke-1', action: 'raise', alarmType: 'smoke', level: 1, addressId: 'addr-440304-0001' },
    );
    assert.ok(raise.edgeTime >= before && raise.edgeTime <= Date.now());
    assert.ok(lines.some((l) => l.msg === 'event durable' && l.eventId === 'gw-01:1'));

    // No ack yet: the event stays in the outbox and is sent again after resendAfterMs.
    await eventually('resend of gw-01:1', () => sent('gw-01:1').length >= 2);
    assert.equal(agent.outbox.pendingCount(), 1);

    await cloud.ack('futian', 'gw-01', { eventIds: ['gw-01:1'] });
    await eventually('outbox empty after ack', () => agent.outbox.pendingCount() === 0);
    const sendsAfterAck = sent('gw-01:1').length;

    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: false }), { qos: 1 });
    const [clear] = await eventually('clear event', () => sent('gw-01:2').length > 0 && sent('gw-01:2'));
    assert.deepEqual([clear?.action, clear?.alarmType, clear?.level], ['clear', 'smoke', 1]);
    // The unacked clear being resent proves a resend round ran after gw-01:1 was acked; gw-01:1
    // was not in it.
    await eventually('resend of gw-01:2', () => sent('gw-01:2').length >= 2);
    assert.equal(sent('gw-01:1').length, sendsAfterAck, 'an acked event is not resent');
    await cloud.ack('futian', 'gw-01', { eventIds: ['gw-01:2'] });
    await eventually('outbox empty after second ack', () => agent.outbox.pendingCount() === 0);

    const { outbox, ...health } = (await (await fetch(`http://127.0.0.1:${agent.httpPort}/healthz`)).json()) as { outbox: { pending: number; telemetry?: { readings: number } } };
    assert.ok(outbox.telemetry, 'the telemetry lane reports itself');
    Object.assign(health, { outbox: { pending: outbox.pending } });
    assert.deepEqual(health, { status: 'ok', uplink: 'connected', outbox: { pending: 0 } });

    await device.endAsync();
    await agent.stop();
    await eventually('offline status', () => cloud.statuses.at(-1)?.state === 'offline');

    // Restart on the same data: the cleared alarm is not cleared again, seq continues.
    agent = await startAgent(config, { logger });
    const again = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    await again.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: false }), { qos: 1 });
    await again.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });
    const [third] = await eventually('raise after restart', () => sent('gw-01:3').length > 0 && sent('gw-01:3'));
    assert.deepEqual([third?.action, third?.alarmType], ['raise', 'smoke']);
    await again.endAsync();
  } finally {
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});

test('a raised alarm survives a restart: no second raise, and the clear still comes', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const config = agentConfig(join(dir, 'data'), cloud.url);
  const { logger } = captureLogger();
  let agent = await startAgent(config, { logger });
  try {
    let device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });
    await eventually('raise committed', () => agent.outbox.pendingCount() === 1);
    await device.endAsync();
    await agent.stop();

    agent = await startAgent(config, { logger });
    device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 1 });
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ alarm: false }), { qos: 1 });
    await eventually('clear committed', () => agent.outbox.pendingCount() === 2);
    const actions = agent.outbox.pending(10).map((e) => `${e.id} ${e.action}`);
    assert.deepEqual(actions, ['gw-01:1 raise', 'gw-01:2 clear']);
    await device.endAsync();
  } finally {
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});

test('rejected events are quarantined and invalid acks are counted and ignored', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const { logger } = captureLogger();
  const agent = await startAgent(agentConfig(join(dir, 'data'), cloud.url), { logger });
  try {
    const device = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
    await device.publishAsync('dev/smoke-1/up', JSON.stringify({ fault: true }), { qos: 1 });
    await eventually('fault sent', () => cloud.events.length > 0);
    await cloud.publishRaw('gw/futian/gw-01/ack', '{"v":1,"eventIds":"gw-01:1"}');
    await cloud.publishRaw('gw/futian/gw-01/ack', 'garbage');
    await eventually('invalid acks counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
      return /^gridwatch_edge_invalid_acks_total 2$/m.test(text);
    });
    assert.equal(agent.outbox.pendingCount(), 1);
    await cloud.ack('futian', 'gw-01', { eventIds: [], rejected: [{ id: 'gw-01:1', reason: 'unknown device' }] });
    await eventually('quarantined', () => agent.outbox.pendingCount() === 0);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
    assert.match(metrics, /^gridwatch_edge_events_quarantined_total 1$/m);
    await device.endAsync();
  } finally {
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});
