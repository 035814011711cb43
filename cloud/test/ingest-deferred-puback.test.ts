// DeferredPuback against a real broker (aedes): mqtt.js goes on to the next message while the first
// is unacknowledged, and the broker sees the PUBACK only when `send` is called — never a PUBACK of an
// earlier connection after a reconnect. Guards the mqtt.js 5 internals ingest relies on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type IPublishPacket } from 'mqtt';
import { DEFERRED, DeferredPuback } from '../src/ingest/deferred-puback.ts';
import { eventually } from './helpers.ts';

let broker: Aedes;
let server: net.Server;
let url: string;
/** PUBACKs the broker received (aedes' 'ack' event; with its memory persistence the packet is not passed). */
let acked = 0;

before(async () => {
  broker = await Aedes.createBroker();
  broker.on('ack', () => {
    acked += 1;
  });
  server = net.createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the next message is handled while the first is unacknowledged; PUBACK only on send', async () => {
  const subscriber = await mqtt.connectAsync(url, { clientId: 'deferred-sub', clean: true, reconnectPeriod: 0 });
  const pubacks = new DeferredPuback(subscriber);
  const held: { packet: IPublishPacket; on: number }[] = [];
  subscriber.handleMessage = (packet, done) => {
    held.push({ packet, on: pubacks.receivedOn() });
    done(DEFERRED);
  };
  await subscriber.subscribeAsync('lanes/#', { qos: 1 });
  const publisher = await mqtt.connectAsync(url, { clientId: 'deferred-pub', reconnectPeriod: 0 });
  try {
    await publisher.publishAsync('lanes/1', 'first', { qos: 1 });
    await publisher.publishAsync('lanes/2', 'second', { qos: 1 });
    await eventually('both messages handed over', () => held.length === 2);
    // A round trip on the subscriber's connection: had mqtt.js sent a PUBACK, the broker has it now.
    await subscriber.subscribeAsync('other/#', { qos: 1 });
    assert.equal(acked, 0, 'nothing acknowledged before send');
    pubacks.send(held[1]!.packet, held[1]!.on);
    await eventually('second acknowledged', () => acked === 1);
    pubacks.send(held[0]!.packet, held[0]!.on);
    await eventually('first acknowledged', () => acked === 2);
  } finally {
    await publisher.endAsync();
    await subscriber.endAsync();
  }
});

test('a packet of an earlier connection is not acknowledged on the new one', async () => {
  const subscriber = await mqtt.connectAsync(url, { clientId: 'deferred-sub-2', clean: true, reconnectPeriod: 50 });
  const pubacks = new DeferredPuback(subscriber);
  const held: { packet: IPublishPacket; on: number }[] = [];
  subscriber.handleMessage = (packet, done) => {
    held.push({ packet, on: pubacks.receivedOn() });
    done(DEFERRED);
  };
  await subscriber.subscribeAsync('again/#', { qos: 1 });
  const publisher = await mqtt.connectAsync(url, { clientId: 'deferred-pub-2', reconnectPeriod: 0 });
  try {
    await publisher.publishAsync('again/1', 'old-connection', { qos: 1 });
    await eventually('message handed over', () => held.length === 1);
    const reconnected = new Promise<void>((resolve) => subscriber.once('connect', () => resolve()));
    subscriber.stream.destroy();
    await reconnected;
    const sendsBefore = acked;
    pubacks.send(held[0]!.packet, held[0]!.on);
    await subscriber.subscribeAsync('again/#', { qos: 1 });
    await publisher.publishAsync('again/2', 'new-connection', { qos: 1 });
    await eventually('new message handed over', () => held.length === 2);
    pubacks.send(held[1]!.packet, held[1]!.on);
    await eventually('new message acknowledged', () => acked > sendsBefore);
    // A round trip after it: a PUBACK written before it (the old packet's) has arrived by now too.
    await subscriber.subscribeAsync('other/#', { qos: 1 });
    assert.equal(acked, sendsBefore + 1, 'the old packet id was not acknowledged on the new connection');
  } finally {
    await publisher.endAsync();
    await subscriber.endAsync(true);
  }
});
