// Version skew, edge side: a newer cloud may add optional fields to `ack` (and `config`) within
// schema major version 1; the edge must apply such an ack, not ignore it (which would resend the
// events forever). A major version it does not speak is refused with a clear reason and counted,
// and the events it names stay in the outbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeMessage } from '@gridwatch/protocol';
import { SqliteOutbox, Uplink, createMetrics, openDatabase, type EdgeConfig, type EventDraft } from '../src/index.ts';
import { captureLogger, eventually, startTestCloud, tempDir } from './helpers.ts';

const GATEWAY = { id: 'gw-skew', site: 'futian' };
const draft = (deviceId: string): EventDraft => ({ deviceId, profileId: 'generic/smoke-mqtt', alarmType: 'smoke', action: 'raise', level: 1, reason: 'smoke', edgeTime: Date.now() });

test('an ack with unknown optional fields is applied; a major version 2 ack is refused with its reason', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const outbox = new SqliteOutbox(openDatabase(join(dir, 'edge.db')), GATEWAY.id).init();
  const { logger, lines } = captureLogger();
  const metrics = createMetrics(() => outbox.pendingCount());
  const config: EdgeConfig['cloud'] = {
    url: cloud.url,
    username: GATEWAY.id,
    password: 'pw',
    rejectUnauthorized: true,
    resendAfterMs: 60_000,
    ackTimeoutMs: 10_000,
    reconnectPeriodMs: 100,
    maxReconnectPeriodMs: 1000,
    credentialsFile: join(dir, 'credentials.json'),
  };
  const uplink = new Uplink({ gateway: GATEWAY, cloud: config, outbox, logger, metrics });
  try {
    const [accepted, refused, later] = [outbox.append(draft('smoke-1')), outbox.append(draft('smoke-2')), outbox.append(draft('smoke-3'))];
    uplink.start();
    await eventually('events at the cloud', () => cloud.events.flatMap((m) => m.events).length === 3);
    const topic = `gw/${GATEWAY.site}/${GATEWAY.id}/ack`;
    await cloud.publishRaw(
      topic,
      JSON.stringify({ v: 1, t: Date.now(), eventIds: [accepted.id], rejected: [{ id: refused.id, reason: 'unknown device', code: 'E_DEVICE' }], traceId: 'abc', ingestReplica: 3 }),
    );
    await eventually('the ack applied', () => outbox.pendingCount() === 1);
    assert.deepEqual(outbox.pending(10).map((e) => e.id), [later.id]);
    assert.deepEqual(outbox.quarantined().map((q) => [q.id, q.reason]), [[refused.id, 'unknown device']]);
    assert.match(await metrics.registry.metrics(), /^gridwatch_edge_invalid_acks_total 0$/m);

    await cloud.publishRaw(topic, JSON.stringify({ v: 2, t: Date.now(), eventIds: [later.id] }));
    const refusal = await eventually('the v2 ack refused', () => lines.find((l) => l.msg === 'invalid ack ignored'));
    assert.match(String(refusal.error), /unsupported schema version 2/);
    assert.match(await metrics.registry.metrics(), /^gridwatch_edge_invalid_acks_total 1$/m);
    assert.equal(outbox.pendingCount(), 1, 'an ack the edge cannot read deletes nothing');
  } finally {
    await uplink.stop();
    outbox.close();
    await cloud.stop();
    cleanup();
  }
});

test('a config message with an unknown optional field decodes with the validator the edge uses', () => {
  const decoded = decodeMessage('config', Buffer.from(JSON.stringify({ v: 1, revision: 4, t: Date.now(), heartbeatSeconds: 60, quietHours: { from: '22:00' } })));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.error);
  assert.equal(decoded.value.heartbeatSeconds, 60);
  assert.ok(!('quietHours' in decoded.value), 'the unknown field is dropped, not passed on');
});
