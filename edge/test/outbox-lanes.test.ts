// The outbox lanes across an outage: readings fill the telemetry lane past its disk budget while
// alarms keep coming; the lane is thinned (downsampled, then oldest dropped) with counters, stays
// within budget, a corrupt alarm record is quarantined and reported, every other alarm is
// delivered in order, and a live alarm overtakes the telemetry backlog replay. The gateway raises
// its own disk_budget alarm while the lane thins and clears it once the replay has drained it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { SCHEMA_VERSION, decodeMessage, encodeMessage } from '@gridwatch/protocol';
import { resolveConfig, startAgent } from '../src/index.ts';
import { TcpProxy } from '../../test/support/tcp-proxy.ts';
import { captureLogger, connectDevice, startTestCloud, tempDir, eventually } from './helpers.ts';

const BUDGET = 256 * 1024;

test('telemetry over budget during an outage: thinned with counters, within budget; every alarm delivered; a live alarm overtakes the replay', async () => {
  const cloud = await startTestCloud();
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(cloud.url).port));
  await proxy.start();
  const arrivals: Array<{ kind: 'events' | 'telemetry'; ids: string[]; readings: number }> = [];
  const ingest = await mqtt.connectAsync(cloud.url, { clientId: 'lanes-ingest', reconnectPeriod: 0 });
  ingest.on('message', (topic, payload) => {
    if (topic.endsWith('/events')) {
      const m = decodeMessage('events', payload);
      assert.ok(m.ok);
      arrivals.push({ kind: 'events', ids: m.value.events.map((e) => e.id), readings: 0 });
      void ingest.publishAsync('gw/futian/gw-lanes/ack', encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), eventIds: m.value.events.map((e) => e.id) }), { qos: 1 });
    } else {
      const m = decodeMessage('telemetry', payload);
      assert.ok(m.ok, m.ok ? '' : m.error);
      arrivals.push({ kind: 'telemetry', ids: [], readings: m.value.readings.length });
    }
  });
  await ingest.subscribeAsync(['gw/+/+/events', 'gw/+/+/telemetry'], { qos: 1 });
  proxy.cut();
  const { dir, cleanup } = tempDir();
  const { logger, lines } = captureLogger();
  const dataDir = join(dir, 'data');
  const config = resolveConfig(
    {
      version: 1,
      gateway: { id: 'gw-lanes', site: 'futian' },
      dataDir,
      logLevel: 'info',
      cloud: { url: proxy.url, password: 'pw', resendAfterMs: 500, reconnectPeriodMs: 100, maxReconnectPeriodMs: 300 },
      local: { mqttPort: 0, httpPort: 0 },
      devices: [{ id: 'smoke-1', profile: 'generic/smoke-mqtt', mqtt: { username: 'smoke-1', password: 'pw-smoke-1' } }],
      outbox: { telemetryBudgetBytes: BUDGET, telemetryFlushMs: 20 },
      health: { tickMs: 100 },
    },
    'test-config',
    dataDir,
  );
  const agent = await startAgent(config, { logger });
  const device = await connectDevice(agent.localMqttPort, 'smoke-1', 'pw-smoke-1');
  try {
    // 30,000 readings (≈ 2 MB of telemetry) and 13 alarm events (smoke, tamper, fault) while the
    // link is down, plus the gateway's disk_budget raise: the lane is being thinned. (Its raise used
    // to depend on a health tick landing while the lane was ≥ 95 % full, so a slow run saw 14 events.)
    const flags = { alarm: false, tamper: false, fault: false };
    for (let i = 0; i < 6000; i++) {
      if (i % 1000 === 0) flags.alarm = !flags.alarm;
      if (i % 1500 === 0) flags.tamper = !flags.tamper;
      if (i % 2000 === 0) flags.fault = !flags.fault;
      device.publish('dev/smoke-1/up', JSON.stringify({ ...flags, battery: 90 - (i % 7), smoke_density: (i % 100) / 100 }), { qos: 0 });
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    const durable = (): Array<Record<string, unknown>> => lines.filter((l) => l.msg === 'event durable');
    const deviceEvents = (): number => durable().filter((l) => l.deviceId === 'smoke-1').length;
    const diskBudget = (action: 'raise' | 'clear') => durable().find((l) => l.deviceId === 'gw-lanes' && l.alarmType === 'disk_budget' && l.action === action);
    await eventually('every report through the pipeline', () => agent.engine !== null && deviceEvents() === 13 && diskBudget('raise') !== undefined && agent.telemetry!.stats().buffered === 0 && agent.telemetry!.stats().readings + agent.telemetry!.stats().downsampled + agent.telemetry!.stats().dropped >= 30_000, 45_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(agent.telemetry!.stats())}, events ${JSON.stringify(durable().map((l) => [l.eventId, l.alarmType, l.action]))}`);
    });
    const stats = agent.telemetry!.stats();
    assert.ok(stats.bytes <= BUDGET, `telemetry lane holds ${stats.bytes} bytes, budget ${BUDGET}`);
    assert.ok(stats.downsampled > 0 && stats.dropped > 0, `thinned: ${JSON.stringify(stats)}`);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`gridwatch_edge_telemetry_thinned_total\\{kind="downsampled"\\} ${stats.downsampled}\\b`));
    assert.match(metrics, new RegExp(`gridwatch_edge_telemetry_thinned_total\\{kind="dropped"\\} ${stats.dropped}\\b`));
    const dbBytes = statSync(join(dataDir, 'edge.db')).size;
    assert.ok(dbBytes <= 2 * BUDGET + 512 * 1024, `edge.db is ${dbBytes} bytes for a ${BUDGET}-byte budget (SQLite pages and the alarm lane on top)`);
    const backlog = durable().map((l) => String(l.eventId));
    assert.equal(backlog.length, 14, `13 device alarms and disk_budget: ${JSON.stringify(backlog)}`);
    assert.equal(agent.outbox.pendingCount(), 14);

    // Corrupt the second alarm record on disk (a torn write, bit rot).
    const raw = new Database(join(dataDir, 'edge.db'));
    raw.prepare("UPDATE outbox_events SET body = '{\"id\":\"gw-lanes:2\",broken' WHERE seq = 2").run();
    raw.close();

    proxy.restore();
    await eventually('uplink connected', () => agent.health().uplink === 'connected', 10_000);
    device.publish('dev/smoke-1/up', JSON.stringify({ alarm: true }), { qos: 0 });
    const live = await eventually('live alarm durable', () => durable().find((l) => !backlog.includes(String(l.eventId)) && l.alarmType === 'smoke' && l.action === 'raise'));
    await eventually('disk_budget cleared once the replay drained the lane', () => diskBudget('clear'), 20_000);
    await eventually('all delivered', () => agent.outbox.pendingCount() === 0 && agent.telemetry!.stats().chunks === 0, 20_000);

    const delivered = arrivals.filter((a) => a.kind === 'events').flatMap((a) => a.ids);
    const expected = durable().map((l) => String(l.eventId)).filter((id) => id !== 'gw-lanes:2');
    assert.equal(expected.length, 15, 'the backlog but the corrupt one, the live alarm and the disk_budget clear');
    assert.deepEqual([...new Set(delivered)].sort(), [...expected].sort(), 'every alarm but the corrupt one arrived');
    const firstSeen = [...new Set(delivered)];
    const backlogSent = backlog.filter((id) => id !== 'gw-lanes:2');
    assert.deepEqual(firstSeen.slice(0, backlogSent.length), backlogSent, 'the backlog arrived in sequence order');
    const liveAt = arrivals.findIndex((a) => a.kind === 'events' && a.ids.includes(String(live.eventId)));
    const telemetryAfter = arrivals.slice(liveAt + 1).filter((a) => a.kind === 'telemetry').length;
    assert.ok(telemetryAfter > 0, 'the live alarm arrived while the telemetry backlog was still replaying');
    const q = agent.outbox.quarantined();
    assert.deepEqual(q.map((e) => [e.id, e.event]), [['gw-lanes:2', null]]);
    assert.match(q[0]!.reason, /^corrupt record/);
    assert.ok(lines.some((l) => l.msg === 'corrupt outbox record quarantined' && l.seq === 2));
    assert.match(await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text(), /gridwatch_edge_outbox_corrupt_total 1\b/);
    const sentReadings = arrivals.filter((a) => a.kind === 'telemetry').reduce((n, a) => n + a.readings, 0);
    assert.ok(sentReadings >= stats.readings, `replayed ${sentReadings} readings`);
  } finally {
    await device.endAsync();
    await agent.stop();
    await ingest.endAsync();
    await proxy.stop();
    await cloud.stop();
    cleanup();
  }
});
