// Transform order and edge cases of the decoder that the bundled profile does not exercise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfile } from '@gridwatch/firmware-profiles';
import { decodeReport } from '../src/index.ts';

const profile = parseProfile(
  {
    id: 'test/io',
    version: '1.0.0',
    name: 'IO module',
    class: 'io_module',
    transport: 'mqtt',
    payload: { format: 'json' },
    heartbeatSeconds: 60,
    points: [
      // mask → shift → scale → offset: ((0x1234 & 0x0ff0) >> 4) * 0.5 - 10 = 0x23 * 0.5 - 10 = 7.5
      { name: 'level', path: 'status.word', type: 'number', unit: 'none', mask: 0x0ff0, shift: 4, scale: 0.5, offset: -10 },
      { name: 'temperature', path: 'temp', type: 'number', unit: 'celsius', scale: 0.1 },
      { name: 'mode', path: 'mode', type: 'number', unit: 'none', enum: { '0': 'idle', '1': 'armed' } },
    ],
    rules: [],
  },
  'inline',
);

function values(payload: string) {
  const result = decodeReport(profile, 'io-1', payload, 1);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return Object.fromEntries(result.readings.map((r) => [r.point, r.value]));
}

test('mask, shift, scale and offset apply in that order, then enum', () => {
  assert.deepEqual(values(JSON.stringify({ status: { word: 0x1234 }, temp: 213, mode: 1 })), { level: 7.5, temperature: 21.3, mode: 'armed' });
});

test('null and absent fields give no reading', () => {
  assert.deepEqual(values('{"temp":null,"status":{}}'), {});
});

test('rejections name the field and never throw', () => {
  const reasons = ['{"mode":7}', '{"status":{"word":-1}}', '{"temp":"hot"}', '"x"', 'null', '{', 'x'.repeat(70_000)].map((p) => {
    const r = decodeReport(profile, 'io-1', p, 1);
    assert.equal(r.ok, false, p.slice(0, 40));
    return r.ok ? '' : r.reason;
  });
  assert.match(reasons[0]!, /^mode: value 7 has no enum mapping/);
  assert.match(reasons[1]!, /^status\.word: expected an unsigned 32-bit integer/);
  assert.match(reasons[2]!, /^temp: expected number, got string/);
  assert.match(reasons[3]!, /not a JSON object \(got string\)/);
  assert.match(reasons[4]!, /not a JSON object \(got null\)/);
  assert.match(reasons[5]!, /not JSON/);
  assert.match(reasons[6]!, /exceeds/);
});
