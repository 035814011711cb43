// Back-pressure from a slow TSDB to the gateways (issue 12), through the real embedded broker,
// ingest and InfluxSink, against a TSDB stub (InfluxDB v2 write API) that stalls on demand.
// While it stalls: the cloud's memory stays bounded, the gateways' telemetry PUBACKs stop (their
// lanes hold, nothing is dropped), and alarms of another gateway still arrive. More telemetry
// publishers than aedes' mqemitter `concurrency` (100): without the broker's gate their blocked
// deliveries filled every slot and alarms queued behind them. When the TSDB answers again, every
// PUBACKed reading reaches it. A TSDB that refuses lines (HTTP 400) makes them dropped by policy:
// counted in the metrics and on GET /api/v1/overview.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, delay, eventsMessage, eventually, nextMessage } from './helpers.ts';

const PUBLISHERS = 110;
const BATCH = 2000;

/** InfluxDB v2 write API stand-in: 204 (counting lines), 400, or no answer until released. */
class TsdbStub {
  mode: 'ok' | 'stall' | 'refuse' = 'ok';
  lines = 0;
  private held: (() => void)[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (): void => {
        if (this.mode === 'refuse') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid","message":"refused by the stub"}');
          return;
        }
        const body = Buffer.concat(chunks);
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : body.toString();
        this.lines += text.split('\n').filter((l) => l !== '').length;
        res.writeHead(204).end();
      };
      if (this.mode === 'stall') this.held.push(answer);
      else answer();
    });
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server.once('listening', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  release(): void {
    this.mode = 'ok';
    const held = this.held;
    this.held = [];
    for (const answer of held) answer();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const stub = new TsdbStub();
let cloud: Cloud;

before(async () => {
  const influxUrl = await stub.start();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent', influxUrl, influxBucket: 'bp' });
});

after(async () => {
  await cloud?.stop();
  await stub.stop();
});

const metric = async (name: string): Promise<number> => {
  const values = (await cloud.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
};

/** A gateway publishing BATCH-reading telemetry at QoS 1, one message in flight, counting PUBACKed readings. */
class Publisher {
  acked = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: MqttClient,
    private readonly gw: { gatewayId: string; site: string },
  ) {}

  start(): void {
    this.loop = (async () => {
      for (let seq = 1; this.running; seq += 1) {
        const readings: Reading[] = Array.from({ length: BATCH }, (_, i) => ({ deviceId: `dev-${i % 20}`, point: `p${i % 10}`, value: i, t: 1_700_000_000_000 + seq * BATCH + i }));
        await this.client.publishAsync(topicFor(this.gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: this.gw.gatewayId, seq, sentAt: Date.now(), readings }), { qos: 1 });
        this.acked += BATCH;
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.endAsync();
  }
}

test('a stalled TSDB holds the gateways\u2019 telemetry, keeps cloud memory bounded and lets alarms through', async () => {
  const alarmGw = { gatewayId: 'gw-bp-alarm', site: 'sz-bp', secret: 'bp-alarm-secret-01' };
  await cloud.gateways.addGateway(alarmGw);
  const publishers: Publisher[] = [];
  for (let g = 0; g < PUBLISHERS; g += 1) {
    const gw = { gatewayId: `gw-bp-${g}`, site: 'sz-bp', secret: `bp-secret-${g}-xxxx` };
    await cloud.gateways.addGateway(gw);
    publishers.push(new Publisher(await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret), gw));
  }
  const alarms = await connectGateway(cloud.mqttUrl, alarmGw.gatewayId, alarmGw.secret);
  await alarms.subscribeAsync(topicFor(alarmGw, 'ack'), { qos: 1 });
  const acked = (): number => publishers.reduce((n, p) => n + p.acked, 0);
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 50);
  try {
    stub.mode = 'stall';
    for (const p of publishers) p.start();
    // Held: the sink sits above its high-water mark (20,000 lines) waiting for the TSDB, ingest's
    // window at the broker is full (4, each PUBACKed to its gateway when admitted), a message of
    // every publisher waits at the broker, and the publishers have read every PUBACK sent so far
    // (those of the messages ingest finished plus the window's).
    const held = async (): Promise<boolean> =>
      cloud.telemetry!.pendingLines > 20_000 &&
      (await metric('gridwatch_telemetry_gate_in_flight')) >= 4 &&
      (await metric('gridwatch_telemetry_gate_waiting')) >= PUBLISHERS &&
      acked() >= (await metric('gridwatch_telemetry_readings_total')) + 4 * BATCH;
    await eventually('every publisher held at the broker', held, 60_000);
    // A message held past the gate's hold time (20 s; a loaded machine may take that long to get
    // here) is PUBACKed and dropped by policy, counted: every PUBACK while stalled is such a drop.
    const heldAt = acked();
    const droppedAt = await metric('gridwatch_telemetry_gate_dropped_messages_total');
    await delay(1500);
    const droppedWhileHeld = (await metric('gridwatch_telemetry_gate_dropped_messages_total')) - droppedAt;
    assert.equal(acked() - heldAt, droppedWhileHeld * BATCH, 'no telemetry PUBACK while the TSDB stalls but for counted drops: the gateways\u2019 lanes hold');
    assert.ok((await metric('gridwatch_telemetry_gate_waiting')) > 0, 'gateways still held');
    assert.ok(cloud.telemetry!.pendingLines <= 4 * 5000 + BATCH, `the sink holds at most its high-water mark (${cloud.telemetry!.pendingLines} lines)`);

    const ack = nextMessage(alarms);
    await alarms.publishAsync(topicFor(alarmGw, 'events'), encodeMessage('events', eventsMessage(alarmGw.gatewayId, [alarmEvent(alarmGw.gatewayId, 1)])), { qos: 1 });
    const decoded = decodeMessage('ack', (await Promise.race([ack, delay(5000).then(() => assert.fail('no ack for the alarm within 5 s while telemetry is held'))]))[1]);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.eventIds, [`${alarmGw.gatewayId}:1`]);
    assert.ok(rssPeak - rssBefore < 200 * 1024 * 1024, `cloud RSS grew ${((rssPeak - rssBefore) / 1048576).toFixed(0)} MB while the TSDB stalled`);

    stub.release();
    await eventually('telemetry flows again', () => acked() > heldAt + PUBLISHERS * BATCH, 30_000);
  } finally {
    clearInterval(sampler);
    await Promise.all(publishers.map((p) => p.stop()));
    await alarms.endAsync();
  }
  await cloud.telemetry!.flush();
  // Nothing lost silently: every PUBACKed reading is in the TSDB or counted as dropped by the gate.
  const gateDropped = await metric('gridwatch_telemetry_gate_dropped_messages_total');
  await eventually('every PUBACKed reading in the TSDB', () => stub.lines >= acked() - gateDropped * BATCH, 30_000);
  assert.equal(await metric('gridwatch_telemetry_lines_dropped_total'), 0, 'the sink dropped nothing: it waited');
});

test('lines the TSDB refuses are dropped by policy: counted in the metrics and on the overview', async () => {
  const gw = { gatewayId: 'gw-bp-refused', site: 'sz-bp', secret: 'bp-refused-secret-1' };
  await cloud.gateways.addGateway(gw);
  const before = await metric('gridwatch_telemetry_lines_dropped_total');
  stub.mode = 'refuse';
  const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
  const readings: Reading[] = [{ deviceId: 'meter-1', point: 'kwh', value: 1.5, t: Date.now() }];
  await client.publishAsync(topicFor(gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, seq: 1, sentAt: Date.now(), readings }), { qos: 1 });
  await client.endAsync();
  await cloud.telemetry!.flush().catch(() => undefined);
  await eventually('the refused line counted', async () => (await metric('gridwatch_telemetry_lines_dropped_total')) >= before + 1, 10_000);
  stub.mode = 'ok';
  await cloud.directory.addUser({ username: 'bp.admin', password: 'bp-admin-password', role: 'dispatcher', jurisdictions: ['*'] });
  const login = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bp.admin', password: 'bp-admin-password' }) });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${cloud.httpUrl}/api/v1/overview`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { telemetryDropped?: { lines: number; messages: number } };
  assert.ok((body.telemetryDropped?.lines ?? 0) >= before + 1, `overview shows the dropped lines: ${JSON.stringify(body.telemetryDropped)}`);
});
