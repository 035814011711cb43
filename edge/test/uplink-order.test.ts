// The uplink's order and liveness against a real aedes broker through a misbehaving TCP proxy:
// pending alarms go out oldest first on (re)connect; a newer change of one (device, alarm type)
// never reaches the cloud ahead of an unacked older one; and a black-holed link (bytes swallowed,
// nothing closed) is left for a new connection within the ack time-out, so an alarm raised behind
// it arrives within seconds of the link returning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AlarmEvent, EventsMessage } from '@gridwatch/protocol';
import { TcpProxy } from '../../test/support/tcp-proxy.ts';
import { SqliteOutbox, Uplink, createMetrics, dueEvents, openDatabase, type EdgeConfig, type EventDraft } from '../src/index.ts';
import { captureLogger, startTestCloud, tempDir, eventually, type TestCloud } from './helpers.ts';

const GATEWAY = { id: 'gw-order', site: 'futian' };

function draft(deviceId: string, alarmType: string, action: 'raise' | 'clear'): EventDraft {
  return { deviceId, profileId: 'generic/smoke-mqtt', alarmType, action, level: 1, reason: `${alarmType} ${action}`, edgeTime: Date.now() };
}

interface Rig {
  cloud: TestCloud;
  proxy: TcpProxy;
  outbox: SqliteOutbox;
  uplink: Uplink;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function rig(cloudOptions: Partial<EdgeConfig['cloud']>, uplinkOptions: { ackTimeoutMs?: number; alarmReconnectCapMs?: number } = {}): Promise<Rig> {
  const cloud = await startTestCloud();
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(cloud.url).port));
  await proxy.start();
  const { dir, cleanup } = tempDir();
  const outbox = new SqliteOutbox(openDatabase(join(dir, 'edge.db')), GATEWAY.id).init();
  const { logger, lines } = captureLogger();
  const config: EdgeConfig['cloud'] = {
    url: proxy.url,
    username: GATEWAY.id,
    password: 'pw',
    rejectUnauthorized: true,
    resendAfterMs: 60_000,
    ackTimeoutMs: 10_000,
    reconnectPeriodMs: 100,
    maxReconnectPeriodMs: 60_000,
    credentialsFile: join(dir, 'credentials.json'),
    ...cloudOptions,
  };
  const uplink = new Uplink({ gateway: GATEWAY, cloud: config, outbox, logger, metrics: createMetrics(() => outbox.pendingCount()), ...uplinkOptions });
  return {
    cloud,
    proxy,
    outbox,
    uplink,
    lines,
    async stop() {
      await uplink.stop();
      outbox.close();
      await proxy.stop();
      await cloud.stop();
      cleanup();
    },
  };
}

const ids = (messages: readonly EventsMessage[]): string[][] => messages.map((m) => m.events.map((e) => e.id));

test('dueEvents holds a newer change of one alarm behind its unacked older one, and releases both in order', () => {
  const ev = (seq: number, deviceId: string, action: 'raise' | 'clear'): AlarmEvent => ({ id: `g:${seq}`, seq, ...draft(deviceId, 'smoke', action) });
  const pending = [ev(1, 'a', 'raise'), ev(2, 'b', 'raise'), ev(3, 'a', 'clear'), ev(4, 'a', 'raise')];
  assert.deepEqual(dueEvents(pending, new Map(), 1000, 500).map((e) => e.seq), [1, 2, 3, 4], 'nothing in flight: all, oldest first');
  const inFlight = new Map([['g:1', 900], ['g:2', 900]]);
  assert.deepEqual(dueEvents(pending, inFlight, 1000, 500).map((e) => e.seq), [], 'a:1 in flight blocks a:3 and a:4; b:2 is in flight');
  assert.deepEqual(dueEvents([...pending, ev(5, 'c', 'raise')], inFlight, 1000, 500).map((e) => e.seq), [5], 'another alarm goes at once');
  assert.deepEqual(dueEvents(pending, inFlight, 1400, 500).map((e) => e.seq), [1, 2, 3, 4], 'once a:1 is due again it leads its successors');
});

test('a newer change of one alarm never overtakes an unacked older one on the wire', async () => {
  const r = await rig({ resendAfterMs: 600 });
  try {
    r.uplink.start();
    await eventually('uplink subscribed', () => r.lines.some((l) => l.msg === 'uplink subscribed'));
    const raise = r.outbox.append(draft('smoke-1', 'smoke', 'raise'));
    r.uplink.notify();
    await eventually('the raise at the cloud', () => r.cloud.events.length === 1);
    // The raise is unacked (the cloud lost it, or its ack is late): the clear and another device's raise follow.
    const clear = r.outbox.append(draft('smoke-1', 'smoke', 'clear'));
    const other = r.outbox.append(draft('smoke-2', 'smoke', 'raise'));
    r.uplink.notify();
    await eventually('the other device\'s raise at once', () => r.cloud.events.flatMap((m) => m.events).some((e) => e.id === other.id), 2000);
    assert.ok(!r.cloud.events.flatMap((m) => m.events).some((e) => e.id === clear.id), 'the clear waits behind its unacked raise');
    // After resendAfterMs the raise is resent with the clear behind it, in one batch, raise first.
    const together = await eventually('raise resent with the clear', () => r.cloud.events.find((m) => m.events.some((e: AlarmEvent) => e.id === clear.id)), 5000);
    const order = together.events.map((e) => e.id);
    assert.ok(order.indexOf(raise.id) >= 0 && order.indexOf(raise.id) < order.indexOf(clear.id), `raise before clear in ${order.join(',')}`);
    await r.cloud.ack(GATEWAY.site, GATEWAY.id, { eventIds: [raise.id, clear.id, other.id] });
    await eventually('outbox drained', () => r.outbox.pendingCount() === 0);
    // Every message on the wire, in arrival order: the clear never appears before its raise did.
    const seen: string[] = [];
    for (const message of ids(r.cloud.events)) {
      for (const id of message) {
        if (id === clear.id) assert.ok(seen.includes(raise.id), 'clear reached the cloud before its raise');
        seen.push(id);
      }
    }
  } finally {
    await r.stop();
  }
});

test('on reconnect the pending alarms go out oldest first, before anything newer', async () => {
  const r = await rig({ resendAfterMs: 60_000 });
  try {
    r.proxy.cut();
    r.uplink.start();
    const old = [r.outbox.append(draft('smoke-1', 'smoke', 'raise')), r.outbox.append(draft('smoke-2', 'smoke', 'raise')), r.outbox.append(draft('smoke-1', 'smoke', 'clear'))];
    r.uplink.notify();
    r.proxy.restore();
    await eventually('the backlog at the cloud', () => r.cloud.events.length > 0, 10_000);
    const fresh = r.outbox.append(draft('smoke-3', 'smoke', 'raise'));
    r.uplink.notify();
    await eventually('the new alarm at the cloud', () => r.cloud.events.flatMap((m) => m.events).some((e) => e.id === fresh.id));
    const firstSeen = [...new Set(r.cloud.events.flatMap((m) => m.events.map((e) => e.seq)))];
    assert.deepEqual(firstSeen, [...old.map((e) => e.seq), fresh.seq], 'oldest first, the new one last');
  } finally {
    await r.stop();
  }
});

test('a black-holed link is dropped within the ack time-out; the alarm behind it arrives soon after the link returns', async () => {
  const ackTimeoutMs = 1500;
  const r = await rig({ resendAfterMs: 500, reconnectPeriodMs: 100 }, { ackTimeoutMs, alarmReconnectCapMs: 500 });
  try {
    r.uplink.start();
    await eventually('uplink subscribed', () => r.lines.some((l) => l.msg === 'uplink subscribed'));
    // Bytes vanish both ways and nothing is closed: the open connection is dead for good.
    r.proxy.blackHole();
    const alarm = r.outbox.append(draft('smoke-1', 'smoke', 'raise'));
    r.uplink.notify();
    await eventually('the edge to give up on the silent link', () => r.lines.find((l) => l.msg === 'uplink silent: no answer within the ack time-out; reconnecting'), ackTimeoutMs + 3000);
    // The black hole lasts a while longer: a reconnect into it gets no CONNACK and times out too.
    await eventually('a reconnect into the black hole to fail', () => r.lines.some((l) => l.msg === 'uplink error' && l.err === 'connack timeout'), 3 * ackTimeoutMs + 3000);
    const returned = Date.now();
    r.proxy.restore();
    await eventually('the alarm at the cloud', () => r.cloud.events.some((m) => m.events.some((e) => e.id === alarm.id)), ackTimeoutMs + 4000);
    const took = Date.now() - returned;
    // At most one connect attempt into the hole (connect time-out = ack time-out) plus one back-off.
    assert.ok(took <= ackTimeoutMs + 1500, `alarm arrived ${took} ms after the link returned`);
    await r.cloud.ack(GATEWAY.site, GATEWAY.id, { eventIds: [alarm.id] });
    await eventually('the ack to reach the edge', () => r.outbox.pendingCount() === 0);
  } finally {
    await r.stop();
  }
});
