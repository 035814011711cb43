// The simulator speaks real MQTT to a real aedes broker, and its control API drives it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { SimControlServer, SmokeDetectorSim } from '../src/index.ts';
import { eventually } from '../../test/support/eventually.ts';

let broker: Aedes;
let server: Server;
let port: number;
let listener: MqttClient;
const received: { topic: string; body: Record<string, unknown> }[] = [];

before(async () => {
  broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => done(null, username === 'smoke-1' && password?.toString() === 'pw-1'),
  });
  server = createServer((socket) => broker.handle(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  listener = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'smoke-1', password: 'pw-1', clientId: 'listener' });
  await listener.subscribeAsync('dev/+/up', { qos: 1 });
  listener.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
});

after(async () => {
  await listener.endAsync();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function next(count: number): Promise<{ topic: string; body: Record<string, unknown> }> {
  return eventually(`message #${count}`, () => received[count - 1], 2000);
}

test('the detector reports normal on start, alarm and clear through the control API', async () => {
  const sim = new SmokeDetectorSim({ brokerUrl: `mqtt://127.0.0.1:${port}`, deviceId: 'smoke-1', username: 'smoke-1', password: 'pw-1' });
  await sim.start();
  const control = new SimControlServer([sim]);
  await control.start();
  try {
    const normal = await next(1);
    assert.equal(normal.topic, 'dev/smoke-1/up');
    assert.equal(normal.body.alarm, false);

    const response = await fetch(`${control.url}/devices/smoke-1/alarm`, { method: 'POST' });
    assert.equal(response.status, 200);
    const alarm = await next(2);
    assert.equal(alarm.body.alarm, true);
    assert.ok(Number(alarm.body.smoke_density) > 0.1);

    await fetch(`${control.url}/devices/smoke-1/test`, { method: 'POST' });
    assert.equal((await next(3)).body.test, true);
    await fetch(`${control.url}/devices/smoke-1/clear`, { method: 'POST' });
    const cleared = await next(4);
    assert.equal(cleared.body.alarm, false);
    assert.equal(cleared.body.test, false);

    const unknownDevice = await fetch(`${control.url}/devices/smoke-9/alarm`, { method: 'POST' });
    assert.equal(unknownDevice.status, 404);
    assert.match(((await unknownDevice.json()) as { error: string }).error, /unknown device smoke-9; known: smoke-1/);
    const unknownAction = await fetch(`${control.url}/devices/smoke-1/explode`, { method: 'POST' });
    assert.equal(unknownAction.status, 400);
    assert.equal(received.length, 4, 'refused requests publish nothing');
  } finally {
    await control.stop();
    await sim.stop();
  }
});

test('a detector with a wrong password cannot connect', async () => {
  const sim = new SmokeDetectorSim({ brokerUrl: `mqtt://127.0.0.1:${port}`, deviceId: 'smoke-1', username: 'smoke-1', password: 'wrong' });
  await assert.rejects(sim.start(), /Not authorized|Bad username or password/i);
  await sim.stop();
});
