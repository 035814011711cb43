// Alarms never wait behind a gateway's held telemetry (issue 12). With a stalled TSDB the embedded
// broker's telemetry gate holds every gateway's telemetry (PUBACK withheld). A gateway sends two
// small telemetry chunks in one write (the edge's telemetry window is 2), both are held, then it
// sends an alarm on the same connection. aedes reads the next chunk only once every packet of the
// last read is handled (or another read event comes), so two held packets used to stop the
// connection: the alarm waited up to the gate's 20 s hold. The broker now reads on past held
// telemetry (`mqttTelemetryHeldPerGateway`, default 2: PUBACK and forwarding deferred, the packet's
// handling done), so the alarm is an incident at once while the telemetry before it is still held.
// The second test switches that off (allowance 0) and shows the alarm waiting: the failure the
// first one guards against.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';

/** Enough one-in-flight publishers to fill the sink's mark (4 batches), its queue and ingest's gate window (4). */
const FILLERS = 12;
const BATCH = 5000;
/** Well inside the gate's 20 s hold: an alarm later than this waited for its telemetry. */
const QUICK_MS = 4000;

/** InfluxDB v2 write API stand-in that holds every request until released. */
class StalledTsdb {
  private held: (() => void)[] = [];
  private stalled = true;
  private readonly server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = (): void => void res.writeHead(204).end();
      if (this.stalled) this.held.push(answer);
      else answer();
    });
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server.once('listening', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stall(): void {
    this.stalled = true;
  }

  release(): void {
    this.stalled = false;
    for (const answer of this.held.splice(0)) answer();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const stub = new StalledTsdb();
let influxUrl = '';

before(async () => {
  influxUrl = await stub.start();
});

// Each test releases the stub at its end; the next one starts stalled again.
beforeEach(() => stub.stall());

after(async () => {
  await stub.stop();
});

const telemetry = (gatewayId: string, seq: number, n: number): string => {
  const readings: Reading[] = Array.from({ length: n }, (_, i) => ({ deviceId: `dev-${i % 20}`, point: `p${i % 10}`, value: i, t: 1_700_000_000_000 + seq * n + i }));
  return encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId, seq, sentAt: Date.now(), readings });
};

async function gauge(cloud: Cloud, name: string): Promise<number> {
  return ((await cloud.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** Publishers that keep one telemetry batch each in flight until stopped. */
async function fill(cloud: Cloud): Promise<{ stop: () => Promise<void> }> {
  const clients: MqttClient[] = [];
  for (let g = 0; g < FILLERS; g += 1) {
    const gw = { gatewayId: `gw-hol-fill-${g}`, site: 'sz-hol', secret: `hol-fill-secret-${g}-x` };
    await cloud.gateways.addGateway(gw);
    clients.push(await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret));
  }
  let running = true;
  const loops = clients.map(async (client, g) => {
    const gw = { gatewayId: `gw-hol-fill-${g}`, site: 'sz-hol' };
    for (let seq = 1; running; seq += 1) await client.publishAsync(topicFor(gw, 'telemetry'), telemetry(gw.gatewayId, seq, BATCH), { qos: 1 }).catch(() => undefined);
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await Promise.all(loops);
    },
  };
}

/**
 * Fills the gate, then a gateway sends a telemetry message (held) and an alarm on one connection.
 * Returns how long the alarm took to be committed as an incident, or null if it was not within
 * QUICK_MS, and whether the telemetry had been PUBACKed by the time the alarm was in the store.
 */
async function alarmBehindHeldTelemetry(heldPerGateway: number): Promise<{ alarmMs: number | null; telemetryAckedFirst: boolean }> {
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent', influxUrl, influxBucket: 'hol', mqttTelemetryHeldPerGateway: heldPerGateway });
  const fillers = await fill(cloud);
  try {
    const gw = { gatewayId: 'gw-hol-alarm', site: 'sz-hol', secret: 'hol-alarm-secret-01' };
    await cloud.gateways.addGateway(gw);
    const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
    await eventually('the gate full, fillers waiting', async () => (await gauge(cloud, 'gridwatch_telemetry_gate_waiting')) >= 2, 30_000);
    const waiting = await gauge(cloud, 'gridwatch_telemetry_gate_waiting');
    let telemetryAcked = false;
    // Two small chunks in one write, as the edge sends its telemetry window (2): they arrive in one read.
    for (const seq of [1, 2]) void client.publishAsync(topicFor(gw, 'telemetry'), telemetry(gw.gatewayId, seq, 10), { qos: 1 }).then(() => (telemetryAcked = true), () => undefined);
    // Both held at the broker before the alarm is written: the alarm comes in a later read.
    await eventually('the gateway\u2019s telemetry held', async () => (await gauge(cloud, 'gridwatch_telemetry_gate_waiting')) >= waiting + 2, 10_000);
    const event = alarmEvent(gw.gatewayId, 1);
    const sent = performance.now();
    void client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, [event])), { qos: 1 }).catch(() => undefined);
    const stored = async (): Promise<boolean> => (await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE first_event_id = $1', [event.id]))[0]?.n === 1;
    const inTime = await eventually('the alarm\u2019s incident in the store', stored, QUICK_MS).then(() => true, () => false);
    const alarmMs = inTime ? performance.now() - sent : null;
    const telemetryAckedFirst = telemetryAcked;
    stub.release();
    // Either way the alarm gets through once the telemetry moves: nothing is lost.
    await eventually('the alarm stored after the release', stored, 30_000);
    await client.endAsync();
    return { alarmMs, telemetryAckedFirst };
  } finally {
    await fillers.stop();
    await cloud.stop();
  }
}

test('an alarm sent behind its gateway\u2019s held telemetry reaches the incident store at once', async () => {
  const { alarmMs, telemetryAckedFirst } = await alarmBehindHeldTelemetry(2);
  assert.notEqual(alarmMs, null, `the alarm was not in the store within ${QUICK_MS} ms while its gateway\u2019s telemetry was held`);
  assert.equal(telemetryAckedFirst, false, 'the telemetry before it was still held (PUBACK withheld): the alarm overtook it');
});

test('switched off (allowance 0), the same alarm waits behind the held telemetry', async () => {
  const { alarmMs } = await alarmBehindHeldTelemetry(0);
  assert.equal(alarmMs, null, `with the broker holding the connection the alarm still arrived in ${alarmMs?.toFixed(0)} ms: the first test would prove nothing`);
});

