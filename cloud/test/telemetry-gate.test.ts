// The embedded broker's telemetry gate on its own (broker/telemetry-gate.ts): a window per
// consumer, first come first served, a bounded hold that drops by policy, and a lost consumer's
// unacknowledged messages counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { TelemetryGate } from '../src/broker/telemetry-gate.ts';

const dropped = async (registry: Registry, reason: string): Promise<number> =>
  (await registry.getSingleMetric('gridwatch_telemetry_gate_dropped_messages_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

test('without a consumer telemetry passes: nothing would ever free a slot', async () => {
  const gate = new TelemetryGate({ window: 1, holdMs: 50, registry: new Registry() });
  assert.equal(await gate.admit(), true);
  assert.equal(await gate.admit(), true);
  assert.equal(gate.inFlight, 0);
});

test('a consumer holds at most `window` messages; the next waits, in arrival order, until an ack', async () => {
  const gate = new TelemetryGate({ window: 2, holdMs: 10_000, registry: new Registry() });
  const consumer = {};
  gate.addConsumer(consumer);
  assert.equal(await gate.admit(), true);
  assert.equal(await gate.admit(), true);
  const order: string[] = [];
  const third = gate.admit().then((ok) => order.push(`third:${ok}`));
  const fourth = gate.admit().then((ok) => order.push(`fourth:${ok}`));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(order, [], 'held while the window is full');
  assert.equal(gate.waiting, 2);
  gate.acked(consumer);
  await third;
  assert.deepEqual(order, ['third:true']);
  assert.equal(gate.inFlight, 2);
  gate.acked(consumer);
  await fourth;
  assert.deepEqual(order, ['third:true', 'fourth:true']);
  gate.close();
});

test('a message held longer than holdMs is let go and counted as dropped by policy', async () => {
  const registry = new Registry();
  const gate = new TelemetryGate({ window: 1, holdMs: 40, registry });
  gate.addConsumer({});
  assert.equal(await gate.admit(), true);
  const started = Date.now();
  assert.equal(await gate.admit(), false);
  assert.ok(Date.now() - started >= 35, 'it waited for room first');
  assert.equal(await dropped(registry, 'held_too_long'), 1);
  assert.equal(gate.waiting, 0);
});

test('a consumer that goes away: its unacknowledged messages are counted, waiters pass', async () => {
  const registry = new Registry();
  const gate = new TelemetryGate({ window: 2, holdMs: 10_000, registry });
  const consumer = {};
  gate.addConsumer(consumer);
  await gate.admit();
  await gate.admit();
  const waiting = gate.admit();
  gate.removeConsumer(consumer);
  assert.equal(await waiting, true);
  assert.equal(await dropped(registry, 'consumer_lost'), 2);
  assert.equal(gate.inFlight, 0);
});

test('a slot given back (the gateway left while held) admits the next waiter', async () => {
  const gate = new TelemetryGate({ window: 1, holdMs: 10_000, registry: new Registry() });
  gate.addConsumer({});
  await gate.admit();
  const next = gate.admit();
  gate.release();
  assert.equal(await next, true);
  assert.equal(gate.inFlight, 1);
  gate.close();
});

test('tryAdmit takes a free slot at once, and never jumps the queue of waiters', async () => {
  const gate = new TelemetryGate({ window: 1, holdMs: 10_000, registry: new Registry() });
  const consumer = {};
  gate.addConsumer(consumer);
  assert.equal(gate.tryAdmit(), true);
  assert.equal(gate.tryAdmit(), false, 'the window is full');
  const waiting = gate.admit();
  gate.acked(consumer);
  assert.equal(await waiting, true, 'the waiter got the freed slot');
  assert.equal(gate.tryAdmit(), false, 'the slot is the waiter\u2019s, not the late caller\u2019s');
  gate.close();
});
