// The lean device front end (drivers/mqtt/lean-broker.ts, issue 12) beyond what the driver's older
// tests cover: PUBACK order when commits finish out of order, back-pressure at the in-flight limit,
// packets split across reads, MQTT 5 clients, QoS 2, keepalive, wills, the packet limit after
// CONNECT, commands on the down topic (live and queued for a persistent session), and the aedes
// implementation still selectable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { DEFAULT_MQTT_LIMITS } from '@gridwatch/protocol';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { MqttDriver, createMetrics, type BoundDevice, type EdgeMetrics, type RawFrame } from '../src/index.ts';
import { LeanBroker, type LeanBrokerPolicy } from '../src/drivers/mqtt/lean-broker.ts';
import { eventually } from './helpers.ts';

const profile = loadProfiles().profiles.get('generic/smoke-mqtt')!.profile;
const device = (id: string): BoundDevice => ({ device: { id, profile: profile.id, mqtt: { username: id, password: `pw-${id}` } }, profile }) as BoundDevice;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- raw packets, so the tests control framing exactly.
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0, Buffer.byteLength(s)]), Buffer.from(s)]);
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return out;
}
const packet = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, ...varint(body.length)]), body]);
const connectPacket = (id: string): Buffer => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 0]), str(id), str(id), str(`pw-${id}`)]));
const publishPacket = (id: string, packetId: number, payload: string): Buffer => packet(0x32, Buffer.concat([str(`dev/${id}/up`), Buffer.from([packetId >> 8, packetId & 0xff]), Buffer.from(payload)]));

/** A raw device socket that records the packet ids of PUBACKs in arrival order. */
async function rawDevice(port: number, id: string): Promise<{ socket: net.Socket; pubacks: number[]; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  const pubacks: number[] = [];
  let buffer = Buffer.alloc(0);
  let connacked = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 2 && buffer.length >= 2 + buffer[1]!) {
      if (buffer[0] === 0x20) connacked = buffer[3] === 0;
      if (buffer[0] === 0x40) pubacks.push(buffer.readUInt16BE(2));
      buffer = buffer.subarray(2 + buffer[1]!);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(connectPacket(id));
  await eventually('CONNACK', () => connacked);
  return { socket, pubacks, closed };
}

/** A policy accepting `id`s with their password, recording reports; `commit` decides when each is durable. */
function testPolicy(commit: (payload: string) => unknown = () => undefined): LeanBrokerPolicy & { reports: string[]; refused: string[]; limits: string[] } {
  const reports: string[] = [];
  const refused: string[] = [];
  const limits: string[] = [];
  return {
    reports,
    refused,
    limits,
    authenticate: (c) => (c.password?.toString() === `pw-${c.clientId}` ? { deviceId: c.clientId } : { refuse: 4 }),
    report: (_deviceId, payload) => {
      reports.push(payload.toString());
      return commit(payload.toString());
    },
    publishRefused: (deviceId, topic) => refused.push(`${deviceId} ${topic}`),
    takeover: () => undefined,
    limit: (limit) => limits.push(limit),
    connectionError: () => undefined,
  };
}

async function withBroker(policy: LeanBrokerPolicy, run: (broker: LeanBroker) => Promise<void>, extra: { inflightPerConnection?: number } = {}): Promise<void> {
  const broker = new LeanBroker({ host: '127.0.0.1', port: 0, limits: { ...DEFAULT_MQTT_LIMITS }, policy, ...extra });
  await broker.start();
  try {
    await run(broker);
  } finally {
    await broker.stop();
  }
}

test('PUBACKs keep the order of the PUBLISHes when a later report is durable first', async () => {
  const waiting = new Map<string, () => void>();
  // Report "a" waits for its commit; "b" needs none (resolves at once, like a report without changes).
  const policy = testPolicy((p) => (p === 'a' ? new Promise<void>((resolve) => waiting.set(p, resolve)) : undefined));
  await withBroker(policy, async (broker) => {
    const d = await rawDevice(broker.port, 'dev-1');
    d.socket.write(Buffer.concat([publishPacket('dev-1', 1, 'a'), publishPacket('dev-1', 2, 'b')]));
    await eventually('both reports in the pipeline', () => policy.reports.length === 2);
    await sleep(50);
    assert.deepEqual(d.pubacks, [], 'no PUBACK before the first report is durable, not even the second one');
    waiting.get('a')!();
    await eventually('both PUBACKs', () => d.pubacks.length === 2);
    assert.deepEqual(d.pubacks, [1, 2]);
    d.socket.destroy();
  });
});

test('at the in-flight limit the device is not read on; every report is still taken and acknowledged in order', async () => {
  const pending: Array<() => void> = [];
  const policy = testPolicy(() => new Promise<void>((resolve) => pending.push(resolve)));
  await withBroker(
    policy,
    async (broker) => {
      const d = await rawDevice(broker.port, 'dev-1');
      d.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => publishPacket('dev-1', i + 1, `r${i + 1}`))));
      await eventually('4 reports in the pipeline', () => policy.reports.length === 4);
      await sleep(50);
      assert.equal(policy.reports.length, 4, 'the fifth report waits for room');
      while (d.pubacks.length < 10) {
        pending.splice(0).forEach((resolve) => resolve());
        await sleep(10);
      }
      assert.deepEqual(d.pubacks, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(policy.reports, Array.from({ length: 10 }, (_, i) => `r${i + 1}`));
      d.socket.destroy();
    },
    { inflightPerConnection: 4 },
  );
});

test('a PUBLISH split into single bytes, and a large one over many reads, arrive whole', async () => {
  const policy = testPolicy();
  await withBroker(policy, async (broker) => {
    const d = await rawDevice(broker.port, 'dev-1');
    const small = publishPacket('dev-1', 7, '{"alarm":true}');
    for (const byte of small) {
      d.socket.write(Buffer.from([byte]));
      await sleep(1);
    }
    const big = `{"pad":"${'x'.repeat(200_000)}"}`;
    d.socket.write(publishPacket('dev-1', 8, big));
    await eventually('both PUBACKs', () => d.pubacks.length === 2);
    assert.deepEqual(policy.reports, ['{"alarm":true}', big]);
    d.socket.destroy();
  });
});

test('a packet over the limit after CONNECT closes the connection before its body is read, counted', async () => {
  const policy = testPolicy();
  await withBroker(policy, async (broker) => {
    const d = await rawDevice(broker.port, 'dev-1');
    d.socket.write(Buffer.from([0x32, ...varint(DEFAULT_MQTT_LIMITS.maxPacketBytes + 1)]));
    await d.closed;
    assert.deepEqual(policy.limits, ['packet_size']);
    assert.deepEqual(policy.reports, []);
  });
});

test('the first packet must be CONNECT; a malformed PUBLISH closes the connection', async () => {
  const policy = testPolicy();
  await withBroker(policy, async (broker) => {
    const early = net.connect(broker.port, '127.0.0.1');
    const earlyClosed = new Promise<void>((resolve) => early.once('close', () => resolve()));
    early.write(publishPacket('dev-1', 1, '{}'));
    await earlyClosed;
    const d = await rawDevice(broker.port, 'dev-1');
    d.socket.write(packet(0x36, Buffer.concat([str('dev/dev-1/up'), Buffer.from([0, 1])]))); // QoS 3
    await d.closed;
    assert.deepEqual(policy.reports, []);
  });
});

/** Writes `packets` on a fresh socket; returns what came back (hex) and whether the server closed. */
async function exchange(port: number, ...packets: Buffer[]): Promise<{ rx: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  let rx = '';
  socket.on('data', (d: Buffer) => (rx += d.toString('hex')));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const p of packets) socket.write(p);
  const closed = await Promise.race([new Promise<boolean>((r) => socket.once('close', () => r(true))), sleep(300).then(() => false)]);
  socket.destroy();
  return { rx, closed };
}

test('control packets (mqtt-packet): unknown levels get CONNACK 1; malformed CONNECT and SUBSCRIBE close; SUBACK and PINGRESP bytes', async () => {
  const policy = testPolicy();
  await withBroker(policy, async (broker) => {
    const connectWith = (name: string, level: number, id: Buffer | string, extra: Buffer[] = []): Buffer =>
      packet(0x10, Buffer.concat([str(name), Buffer.from([level, 0xc2, 0, 0]), Buffer.concat([Buffer.from([0, Buffer.byteLength(id)]), Buffer.from(id)]), str('dev-1'), str('pw-dev-1'), ...extra]));
    for (const [name, level] of [['MQTT', 9], ['MQTT', 3], ['MQIsdp', 4], ['MQTX', 4]] as const) {
      assert.deepEqual(await exchange(broker.port, connectWith(name, level, 'dev-1')), { rx: '20020001', closed: true }, `${name} level ${level}`);
    }
    assert.deepEqual(await exchange(broker.port, connectWith('MQTT', 4, 'dev-1', [Buffer.from([0])])), { rx: '', closed: true }, 'a byte after the password');
    assert.deepEqual(await exchange(broker.port, connectWith('MQTT', 4, Buffer.from([0xc3, 0x28]))), { rx: '', closed: true }, 'malformed UTF-8 client id');
    const ok = connectPacket('dev-1');
    assert.deepEqual(await exchange(broker.port, ok, packet(0x82, Buffer.from([0, 1]))), { rx: '20020000', closed: true }, 'SUBSCRIBE without a filter');
    const subscribe = packet(0x82, Buffer.concat([Buffer.from([0, 5]), str('dev/dev-1/down'), Buffer.from([1]), str('dev/dev-2/down'), Buffer.from([0])]));
    assert.deepEqual(await exchange(broker.port, ok, subscribe, Buffer.from([0xc0, 0])), { rx: '20020000' + '900400050180' + 'd000', closed: false });
    assert.deepEqual(policy.reports, []);
  });
});

// ---- through the driver, with real mqtt.js clients.

async function withDriver(run: (driver: MqttDriver, frames: RawFrame[], metrics: EdgeMetrics) => Promise<void>, broker: 'lean' | 'aedes' = 'lean'): Promise<void> {
  const metrics = createMetrics(() => 0);
  const driver = new MqttDriver({ host: '127.0.0.1', port: 0, devices: [device('dev-1'), device('dev-2')], logger: pino({ level: 'silent' }), metrics, broker });
  const frames: RawFrame[] = [];
  await driver.start((f) => void frames.push(f));
  try {
    await run(driver, frames, metrics);
  } finally {
    await driver.stop();
  }
}

const connect = (port: number, id: string, extra: IClientOptions = {}): Promise<MqttClient> =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: id, username: id, password: `pw-${id}`, reconnectPeriod: 0, ...extra });

async function metric(metrics: EdgeMetrics, name: string): Promise<string> {
  return metrics.registry.getSingleMetricAsString(name);
}

test('MQTT 5 device: publishes at QoS 1 and 2, subscribes to its down topic only, and receives a command', async () => {
  await withDriver(async (driver, frames) => {
    const client = await connect(driver.port, 'dev-1', { protocolVersion: 5 });
    try {
      await client.publishAsync('dev/dev-1/up', '{"alarm":true}', { qos: 1 });
      await client.publishAsync('dev/dev-1/up', '{"alarm":false}', { qos: 2 });
      assert.deepEqual(frames.map((f) => ('payload' in f ? f.payload.toString() : '')), ['{"alarm":true}', '{"alarm":false}']);
      const granted = await client.subscribeAsync('dev/dev-1/down', { qos: 1 });
      assert.deepEqual(granted.map((g) => g.qos), [1]);
      // mqtt.js 5 reports a SUBACK failure code (0x80) as an error.
      await assert.rejects(client.subscribeAsync('dev/dev-2/down', { qos: 1 }), /Subscribe error/);
      const received = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())));
      await driver.write('dev-1', [{ point: 'siren', value: true }]);
      assert.equal(await received, '{"siren":true}');
      await assert.rejects(driver.write('dev-2', [{ point: 'siren', value: true }]), /not subscribed/);
    } finally {
      await client.endAsync(true);
    }
  });
});

test('a persistent session keeps its subscription; a command sent while offline arrives on reconnect', async () => {
  await withDriver(async (driver) => {
    const first = await connect(driver.port, 'dev-1', { clean: false });
    await first.subscribeAsync('dev/dev-1/down', { qos: 1 });
    await first.endAsync(true);
    await driver.write('dev-1', [{ point: 'siren', value: false }]);
    // Listening before CONNACK: the queued command follows it at once.
    const second = mqtt.connect(`mqtt://127.0.0.1:${driver.port}`, { clientId: 'dev-1', username: 'dev-1', password: 'pw-dev-1', reconnectPeriod: 0, clean: false });
    try {
      const payload = await new Promise<string>((resolve) => second.once('message', (_t, p) => resolve(p.toString())));
      assert.equal(payload, '{"siren":false}');
      assert.ok(second.connected);
    } finally {
      await second.endAsync(true);
    }
  });
});

test('keepalive: a silent device is closed after 1.5 × its keepalive; PINGREQ keeps it open', async () => {
  await withDriver(async (driver) => {
    const pinging = await connect(driver.port, 'dev-1', { keepalive: 1 });
    const silent = net.connect(driver.port, '127.0.0.1');
    silent.resume(); // read, or the close is never seen
    const closedAt = new Promise<number>((resolve) => silent.once('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => silent.once('connect', resolve));
    const started = Date.now();
    silent.write(packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 1]), str('dev-2'), str('dev-2'), str('pw-dev-2')])));
    const elapsed = (await closedAt) - started;
    assert.ok(elapsed >= 1400 && elapsed < 3500, `closed after ${elapsed} ms`);
    assert.ok(pinging.connected, 'the device sending PINGREQ stays connected');
    await pinging.endAsync(true);
  });
});

test('a will on the device topic is a report on an unclean close; a will elsewhere is refused and counted', async () => {
  await withDriver(async (driver, frames, metrics) => {
    for (const [id, topic] of [['dev-1', 'dev/dev-1/up'], ['dev-2', 'dev/dev-1/up']] as const) {
      const client = await connect(driver.port, id, { will: { topic, payload: Buffer.from('{"tamper":true}'), qos: 1, retain: false } });
      // Destroy the socket: no DISCONNECT, so the will applies.
      (client.stream as net.Socket).destroy();
      await eventually(`${id} closed`, () => !client.connected);
      client.end(true);
    }
    await eventually('the will of dev-1 as a report', () => frames.length === 1);
    assert.equal(frames[0]!.deviceId, 'dev-1');
    await eventually('the will of dev-2 refused', async () => /device="dev-2"} 1/.test(await metric(metrics, 'gridwatch_edge_device_publish_refused_total')));
    // A clean DISCONNECT drops the will.
    const clean = await connect(driver.port, 'dev-1', { will: { topic: 'dev/dev-1/up', payload: Buffer.from('{}'), qos: 1, retain: false } });
    await clean.endAsync();
    await sleep(100);
    assert.equal(frames.length, 1);
  });
});

test('the aedes implementation is still selectable and serves the same device', async () => {
  await withDriver(async (driver, frames) => {
    const client = await connect(driver.port, 'dev-1');
    await client.publishAsync('dev/dev-1/up', '{"alarm":true}', { qos: 1 });
    await client.endAsync(true);
    assert.equal(frames.length, 1);
  }, 'aedes');
});
