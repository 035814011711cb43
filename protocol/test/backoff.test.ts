import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '@gridwatch/protocol';

test('doubles from the base per attempt and stops at the cap', () => {
  const policy = { baseMs: 250, maxMs: 30_000 };
  assert.deepEqual([0, 1, 2, 3, 6, 7, 8, 1000].map((a) => backoffDelay(a, policy)), [250, 500, 1000, 2000, 16_000, 30_000, 30_000, 30_000]);
});

test('jitter takes a random part off, never more than the fraction', () => {
  const policy = { baseMs: 1000, maxMs: 60_000, jitter: 0.5 };
  assert.equal(backoffDelay(2, policy, () => 0), 4000);
  assert.equal(backoffDelay(2, policy, () => 0.5), 3000);
  assert.equal(backoffDelay(2, policy, () => 0.999_999), 2000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(10, policy);
    assert.ok(d >= 30_000 && d <= 60_000, String(d));
  }
});

test('bad attempts and jitter are refused', () => {
  assert.throws(() => backoffDelay(-1, { baseMs: 1, maxMs: 2 }), RangeError);
  assert.throws(() => backoffDelay(Number.NaN, { baseMs: 1, maxMs: 2 }), RangeError);
  assert.throws(() => backoffDelay(0, { baseMs: 1, maxMs: 2, jitter: 1.5 }), RangeError);
});
