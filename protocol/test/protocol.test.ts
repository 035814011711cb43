import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeMessage,
  encodeMessage,
  eventIdFor,
  parseTopic,
  topicFor,
  SCHEMA_VERSION,
  MAX_PAYLOAD_BYTES,
  type EventsMessage,
} from '../src/index.ts';
import { renderSchemas } from '../scripts/generate-schemas.ts';

const event = {
  id: eventIdFor('gw-01', 7),
  seq: 7,
  deviceId: 'smoke-1',
  profileId: 'generic/smoke-mqtt',
  alarmType: 'smoke',
  action: 'raise' as const,
  level: 1,
  reason: 'Smoke detected',
  edgeTime: 1_763_900_000_000,
};
const message: EventsMessage = { v: SCHEMA_VERSION, gatewayId: 'gw-01', sentAt: 1_763_900_000_100, events: [event] };

test('a valid events message round-trips through encode and decode', () => {
  const decoded = decodeMessage('events', encodeMessage('events', message));
  assert.deepEqual(decoded, { ok: true, value: message });
});

test('an out-of-range level is rejected naming the field', () => {
  const bad = { ...message, events: [{ ...event, level: 9 }] };
  const decoded = decodeMessage('events', JSON.stringify(bad));
  assert.equal(decoded.ok, false);
  assert.match(!decoded.ok ? decoded.error : '', /\/events\/0\/level/);
});

test('an unknown schema version is rejected with the version named', () => {
  const decoded = decodeMessage('events', JSON.stringify({ ...message, v: 2 }));
  assert.equal(decoded.ok, false);
  assert.match(!decoded.ok ? decoded.error : '', /unsupported schema version 2/);
});

test('non-JSON and oversize payloads are rejected with a reason', () => {
  const notJson = decodeMessage('events', Buffer.from('{"v":1,'));
  assert.match(!notJson.ok ? notJson.error : '', /not JSON/);
  const huge = decodeMessage('events', 'x'.repeat(MAX_PAYLOAD_BYTES + 1));
  assert.match(!huge.ok ? huge.error : '', /exceeds/);
});

test('within major version 1 a receiver ignores unknown optional fields (stripped, never passed on)', () => {
  const decoded = decodeMessage('events', JSON.stringify({ ...message, hint: 'x', events: [{ ...event, confidence: 0.9 }] }));
  assert.deepEqual(decoded, { ok: true, value: message });
  const ack = decodeMessage('ack', JSON.stringify({ v: 1, t: 5, eventIds: ['gw-01:7'], futureField: { a: 1 } }));
  assert.deepEqual(ack, { ok: true, value: { v: 1, t: 5, eventIds: ['gw-01:7'] } });
});

test('a sender is strict: a misspelt field is refused where it is written', () => {
  assert.throws(() => encodeMessage('events', { ...message, events: [{ ...event, levle: 1 } as typeof event] }), /refusing to send/);
});

test('text the store cannot hold is refused: U+0000 and lone surrogates; other text (CJK, emoji) passes', () => {
  // JSON escapes, as a sender would write them: JSON.parse turns them into the characters.
  for (const reason of [String.raw`a\u0000b`, String.raw`\ud800`, String.raw`x\udc00y`, String.raw`\udbff`]) {
    const decoded = decodeMessage('events', `{"v":1,"gatewayId":"gw-01","sentAt":1,"events":[${JSON.stringify(event).replace('"Smoke detected"', `"${reason}"`)}]}`);
    assert.equal(decoded.ok, false, reason);
    assert.match(!decoded.ok ? decoded.error : '', /\/events\/0\/reason/);
  }
  assert.equal(decodeMessage('events', JSON.stringify({ ...message, events: [{ ...event, reason: '烟雾 🔥 ok' }] })).ok, true);
});

test('the published JSON Schemas say that receivers ignore unknown fields', () => {
  for (const [name, text] of renderSchemas()) {
    const doc = JSON.parse(text) as { description: string; additionalProperties?: unknown };
    assert.match(doc.description, /Receivers ignore properties this schema does not define/, name);
    assert.equal(doc.additionalProperties, undefined, name);
  }
});

test('encodeMessage refuses to send an invalid message', () => {
  assert.throws(() => encodeMessage('ack', { v: SCHEMA_VERSION, t: -1, eventIds: [] }), /invalid message: ack: \/t/);
});

test('topics are built and parsed symmetrically; foreign topics parse to null', () => {
  const topic = topicFor({ site: 'futian-01', gatewayId: 'gw-01' }, 'events');
  assert.equal(topic, 'gw/futian-01/gw-01/events');
  assert.deepEqual(parseTopic(topic), { site: 'futian-01', gatewayId: 'gw-01', kind: 'events' });
  assert.equal(parseTopic('gw/futian-01/gw-01/unknown'), null);
  assert.equal(parseTopic('gw/futian-01/+/events'), null);
  assert.equal(parseTopic('dev/smoke-1/up'), null);
});

test('committed JSON Schema files match the TypeBox source', () => {
  const dir = join(import.meta.dirname, '..', 'schema');
  for (const [name, text] of renderSchemas()) {
    assert.equal(readFileSync(join(dir, name), 'utf8'), text, `${name} is stale: run npm run gen:schemas`);
  }
});
