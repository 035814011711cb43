// Attack: cross-gateway publish, subscribe and last will on the embedded cloud broker. Gateway A,
// logged in with its own credential, publishes on B's uplink topics, subscribes to B's downlink
// topics and to wildcards, and leaves a last will on B's status topic. Accepted = the message
// reached the cloud's ingest side (a service subscriber on '#') or the SUBACK granted the filter.
// The same attacks then run on a broker whose topic rules are switched off through its test seam
// (BrokerOptions.rules) to show this case can fail; and client-id takeover likewise with the
// identity-binding rule off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { alarmEvent, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { Tally, closed, connectAs, startBrokerRig, tryConnect, type BrokerRig, type BrokerRigOptions } from './support.ts';

const A = { gatewayId: 'gw-topic-a', site: 'site-a', secret: 'topics-secret-a-01' };
const B = { gatewayId: 'gw-topic-b', site: 'site-b', secret: 'topics-secret-b-01' };
const rigs: BrokerRig[] = [];

async function rig(options: BrokerRigOptions = {}): Promise<BrokerRig> {
  const r = await startBrokerRig(options);
  rigs.push(r);
  await r.registry.addGateway(A);
  await r.registry.addGateway(B);
  return r;
}

let guarded: BrokerRig;

before(async () => {
  guarded = await rig();
});

after(async () => {
  for (const r of rigs) await r.stop();
});

/** The cloud's side of the broker: every message on '#', as ingest would see it. */
async function observer(r: BrokerRig): Promise<{ client: MqttClient; seen: Map<string, number> }> {
  const client = await connectAs(r.url, { ...r.broker.serviceCredentials, clientId: `gridwatch-ingest-observer-${Math.random().toString(36).slice(2)}` });
  const seen = new Map<string, number>();
  client.on('message', (topic) => seen.set(topic, (seen.get(topic) ?? 0) + 1));
  await client.subscribeAsync('#', { qos: 1 });
  return { client, seen };
}

/** Publishes, subscribes and leaves a will as A against B; returns the tally. */
async function crossGateway(r: BrokerRig): Promise<Tally> {
  const tally = new Tally();
  const watch = await observer(r);
  try {
    for (const kind of ['events', 'telemetry', 'status'] as const) {
      const attacker = await connectAs(r.url, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret });
      const forged = kind === 'events' ? encodeMessage('events', eventsMessage(B.gatewayId, [alarmEvent(B.gatewayId, 1)])) : JSON.stringify({ forged: kind });
      // A refused QoS 1 publish closes the connection (MQTT 3.1.1 has no negative PUBACK).
      await Promise.race([attacker.publishAsync(topicFor(B, kind), forged, { qos: 1 }).catch(() => undefined), closed(attacker)]);
      await attacker.endAsync(true);
      // A's own message on its own topic, sent after the attack and seen by the observer, is the
      // proof the forged one would have arrived by now (the broker forwards in order).
      const probe = await connectAs(r.url, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret });
      const seenOwn = watch.seen.get(topicFor(A, kind)) ?? 0;
      await probe.publishAsync(topicFor(A, kind), JSON.stringify({ probe: kind }), { qos: 1 });
      await probe.endAsync();
      await eventually(`A's own ${kind} delivered`, () => (watch.seen.get(topicFor(A, kind)) ?? 0) > seenOwn);
      tally.record(`publish to B's ${kind}`, (watch.seen.get(topicFor(B, kind)) ?? 0) > 0);
    }
    const subscriber = await connectAs(r.url, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret });
    for (const filter of [topicFor(B, 'ack'), topicFor(B, 'config'), 'gw/+/+/ack', 'gw/#', '#']) {
      const granted = await subscriber.subscribeAsync(filter, { qos: 1 }).then((g) => g.some((s) => s.qos < 128), () => false);
      tally.record(`subscribe ${filter}`, granted);
    }
    await subscriber.endAsync(true);
    // The will is published by the broker when the socket dies without DISCONNECT.
    const will = { topic: topicFor(B, 'status'), payload: Buffer.from(JSON.stringify({ v: 1, gatewayId: B.gatewayId, state: 'offline', t: Date.now() })), qos: 1 as const, retain: false };
    const before = watch.seen.get(will.topic) ?? 0;
    const dying = await connectAs(r.url, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret, will });
    (dying.stream as unknown as { destroy(): void }).destroy();
    await dying.endAsync(true);
    // A's own will, left by a second connection after B's, arriving is the proof B's would have.
    const ownWill = { ...will, topic: topicFor(A, 'status') };
    const own = await connectAs(r.url, { clientId: A.gatewayId, username: A.gatewayId, password: A.secret, will: ownWill });
    (own.stream as unknown as { destroy(): void }).destroy();
    await own.endAsync(true);
    await eventually("A's own will delivered", () => (watch.seen.get(ownWill.topic) ?? 0) > 0);
    tally.record("will on B's status", (watch.seen.get(will.topic) ?? 0) > before);
  } finally {
    await watch.client.endAsync(true);
  }
  return tally;
}

/** A connects under B's client id while B is connected; accepted = the CONNECT or B's session closed. */
async function takeover(r: BrokerRig): Promise<Tally> {
  const tally = new Tally();
  const victim = await connectAs(r.url, { clientId: B.gatewayId, username: B.gatewayId, password: B.secret });
  const victimClosed = closed(victim).then(() => true);
  try {
    const result = await tryConnect(r.url, { clientId: B.gatewayId, username: A.gatewayId, password: A.secret });
    tally.record('foreign client id', result.accepted);
    // The victim's QoS 1 publish answered proves its session survived; a closed session ends the wait.
    const survived = await Promise.race([victim.publishAsync(topicFor(B, 'status'), '{}', { qos: 1 }).then(() => victim.connected), victimClosed.then(() => false)]);
    tally.record('victim session closed', !survived);
  } finally {
    await victim.endAsync(true);
  }
  return tally;
}

test('cross-gateway publish, subscribe and will: 0 accepted', async () => {
  (await crossGateway(guarded)).assertNoneAccepted();
});

test('planted regression: with the topic rules off (BrokerOptions.rules) the same attacks are accepted', async () => {
  const open = await rig({ rules: { mayPublish: () => true, maySubscribe: () => true } });
  const summary = (await crossGateway(open)).summary();
  for (const attack of ["publish to B's events", "publish to B's status", 'subscribe gw/#', "will on B's status"]) {
    assert.ok((summary[attack]?.accepted ?? 0) > 0, `${attack} should be accepted with the rules off: ${JSON.stringify(summary)}`);
  }
});

test('client-id takeover on the bare broker: 0 accepted', async () => {
  (await takeover(guarded)).assertNoneAccepted();
});

test('planted regression: with identity binding off (BrokerOptions.rules.clientIdAllowed) A takes over B', async () => {
  const open = await rig({ rules: { clientIdAllowed: () => true } });
  const summary = (await takeover(open)).summary();
  assert.ok((summary['foreign client id']?.accepted ?? 0) > 0, JSON.stringify(summary));
  assert.ok((summary['victim session closed']?.accepted ?? 0) > 0, JSON.stringify(summary));
});
