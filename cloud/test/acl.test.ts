// Broker authentication and topic ACL with real mqtt.js clients against the embedded broker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, eventsMessage, nextClose, nextMessage, eventually } from './helpers.ts';

const A = { gatewayId: 'gw-a', site: 'sz-nanshan', secret: 'secret-of-gw-a' };
const B = { gatewayId: 'gw-b', site: 'sz-nanshan', secret: 'secret-of-gw-b' };

let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' });
  await cloud.gateways.addGateway(A);
  await cloud.gateways.addGateway(B);
});

after(async () => {
  await cloud.stop();
});

async function count(table: 'events' | 'incidents'): Promise<number> {
  const rows = await cloud.store.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

async function counter(action: string): Promise<number> {
  const metric = await cloud.metrics.aclDenied.get();
  return metric.values.find((v) => v.labels.action === action)?.value ?? 0;
}

test('a wrong password or unknown gateway is refused at CONNECT', async () => {
  await assert.rejects(connectGateway(cloud.mqttUrl, A.gatewayId, 'not-the-secret'), (err: Error & { code?: number }) => {
    assert.equal(err.code, 4, 'CONNACK 4: bad user name or password');
    return true;
  });
  await assert.rejects(connectGateway(cloud.mqttUrl, 'gw-nobody', 'whatever-secret'), (err: Error & { code?: number }) => err.code === 4);
  await assert.rejects(connectGateway(cloud.mqttUrl, '_gridwatch-ingest', 'guessing-the-service'), (err: Error & { code?: number }) => err.code === 4);
});

test("publishing under another gateway's prefix is refused and nothing is stored", async () => {
  const intruder = await connectGateway(cloud.mqttUrl, A.gatewayId, A.secret);
  const closed = nextClose(intruder);
  const forged = encodeMessage('events', eventsMessage(B.gatewayId, [alarmEvent(B.gatewayId, 1)]));
  intruder.publish(topicFor(B, 'events'), forged, { qos: 1 });
  await closed; // MQTT 3.1.1 cannot NACK a PUBLISH; the broker drops the connection.
  await intruder.endAsync(true); // force: its refused QoS 1 publish will never be acknowledged
  assert.equal(await counter('publish'), 1);

  // The same gateway on its own prefix goes all the way through: the refusal above was the ACL, and
  // one stored event after this ack (not two) proves the forged one was never stored.
  const gateway = await connectGateway(cloud.mqttUrl, A.gatewayId, A.secret);
  await gateway.subscribeAsync(topicFor(A, 'ack'), { qos: 1 });
  const ack = nextMessage(gateway);
  await gateway.publishAsync(topicFor(A, 'events'), encodeMessage('events', eventsMessage(A.gatewayId, [alarmEvent(A.gatewayId, 1)])), { qos: 1 });
  const [topic, payload] = await ack;
  assert.equal(topic, topicFor(A, 'ack'));
  assert.deepEqual(JSON.parse(payload.toString()).eventIds, ['gw-a:1']);
  assert.equal(await count('events'), 1, 'only the event on its own prefix is stored');
  assert.equal(await count('incidents'), 1);
  await gateway.endAsync();
});

test("subscribing to another gateway's ack (or a wildcard) is refused", async () => {
  const gateway = await connectGateway(cloud.mqttUrl, A.gatewayId, A.secret);
  for (const filter of [topicFor(B, 'ack'), 'gw/+/+/ack', 'gw/#']) {
    // SUBACK return code 0x80 (MQTT 3.1.1 §3.9.3); mqtt.js reports it as a failed subscribe.
    await assert.rejects(gateway.subscribeAsync(filter, { qos: 1 }), (err: Error & { packet?: { granted?: number[] } }) => {
      assert.deepEqual(err.packet?.granted, [128], filter);
      return true;
    });
  }
  const own = await gateway.subscribeAsync([topicFor(A, 'ack'), topicFor(A, 'config')], { qos: 1 });
  assert.deepEqual(own.map((g) => g.qos), [1, 1]);
  assert.equal(await counter('subscribe'), 3);
  // Nothing published to B's ack reaches A.
  let leaked = false;
  gateway.on('message', (topic) => {
    if (topic !== topicFor(A, 'ack')) leaked = true;
  });
  const b = await connectGateway(cloud.mqttUrl, B.gatewayId, B.secret);
  await b.subscribeAsync(topicFor(B, 'ack'), { qos: 1 });
  const bAck = nextMessage(b);
  await b.publishAsync(topicFor(B, 'events'), encodeMessage('events', eventsMessage(B.gatewayId, [alarmEvent(B.gatewayId, 1)])), { qos: 1 });
  await bAck;
  // A's own ack, which the cloud publishes after B's, arriving is the proof that B's would have
  // reached A by now. gw-a:1 is already held: it is acked again and stores nothing.
  const ownAck = nextMessage(gateway);
  await gateway.publishAsync(topicFor(A, 'events'), encodeMessage('events', eventsMessage(A.gatewayId, [alarmEvent(A.gatewayId, 1)])), { qos: 1 });
  const [ownTopic] = await ownAck;
  assert.equal(ownTopic, topicFor(A, 'ack'));
  assert.equal(leaked, false);
  await eventually('gw-b event stored', async () => ((await count('events')) === 2 ? true : undefined));
  await Promise.all([gateway.endAsync(), b.endAsync()]);
});
