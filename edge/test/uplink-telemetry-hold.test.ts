// The cloud's telemetry back-pressure is not a dead link (issue 12). The cloud's broker withholds
// a gateway's telemetry PUBACKs while its TSDB is behind (cloud/src/broker/telemetry-gate.ts, up
// to 20 s), longer than the edge's ack time-out. Silence after a telemetry publish alone must not
// make the uplink drop and re-open the connection (a fleet reconnecting every 10 s through a TSDB
// stall); silence after an alarm publish still does (uplink-order.test.ts, the black hole).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { SqliteOutbox, TelemetryLane, Uplink, createMetrics, openDatabase, type EdgeConfig } from '../src/index.ts';
import { captureLogger, eventually, listenBroker, tempDir } from './helpers.ts';

const GATEWAY = { id: 'gw-hold', site: 'futian' };
const ACK_TIMEOUT_MS = 800;
const SILENT = 'uplink silent: no answer within the ack time-out; reconnecting';

/** An aedes broker that never completes a telemetry publish (no PUBACK), as a stalled TSDB's gate does. */
async function holdingBroker(): Promise<{ url: string; held: () => number; stop: () => Promise<void> }> {
  const broker = await Aedes.createBroker();
  let held = 0;
  broker.authorizePublish = (_client, packet, done) => {
    if (packet.topic.endsWith('/telemetry')) {
      held += 1;
      return; // never answered: aedes withholds the PUBACK
    }
    done(null);
  };
  const listening = await listenBroker(broker);
  return { url: listening.url, held: () => held, stop: listening.stop };
}

test('held telemetry PUBACKs (cloud back-pressure) do not count as a silent link', async () => {
  const broker = await holdingBroker();
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'edge.db'));
  const outbox = new SqliteOutbox(db, GATEWAY.id).init();
  const lane = new TelemetryLane(db, { budgetBytes: 1_000_000 }).init();
  const { logger, lines } = captureLogger();
  const cloud: EdgeConfig['cloud'] = {
    url: broker.url,
    username: GATEWAY.id,
    password: 'pw',
    rejectUnauthorized: true,
    resendAfterMs: 60_000,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    reconnectPeriodMs: 100,
    maxReconnectPeriodMs: 1000,
    credentialsFile: join(dir, 'credentials.json'),
  };
  const uplink = new Uplink({ gateway: GATEWAY, cloud, outbox, telemetry: lane, logger, metrics: createMetrics(() => outbox.pendingCount()), ackTimeoutMs: ACK_TIMEOUT_MS });
  try {
    uplink.start();
    await eventually('uplink subscribed', () => lines.some((l) => l.msg === 'uplink subscribed'));
    lane.push([{ deviceId: 'meter-1', point: 'flow', value: 1, t: Date.now() }]);
    lane.flush();
    uplink.notify();
    await eventually('the telemetry publish held by the broker', () => broker.held() > 0);
    // Four ack time-outs with only held telemetry in flight: the link is busy, not dead.
    await new Promise((resolve) => setTimeout(resolve, 4 * ACK_TIMEOUT_MS));
    uplink.notify();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(lines.filter((l) => l.msg === SILENT).length, 0, 'no reconnect for held telemetry');
    assert.equal(lines.filter((l) => l.msg === 'uplink connected').length, 1, 'one connection throughout');
  } finally {
    await uplink.stop();
    outbox.close();
    await broker.stop();
    cleanup();
  }
});
