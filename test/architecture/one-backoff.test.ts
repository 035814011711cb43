// One back-off (protocol/src/backoff.ts): no other production module computes an exponential
// delay of its own. A hand-written `base * 2 ** attempt` elsewhere fails here with its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTree } from './imports.ts';

const PRODUCTION = /^(protocol|firmware-profiles|edge|cloud|sim)\/src\//;
const HOME = 'protocol/src/backoff.ts';
// `base * 2 ** attempt`: the shape every exponential back-off here took.
const EXPONENTIAL = /\*\s*2\s*\*\*/;

export function handWrittenBackoffs(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    if (!PRODUCTION.test(file) || file === HOME) continue;
    source.split('\n').forEach((line, i) => {
      if (EXPONENTIAL.test(line) && !line.trimStart().startsWith('//')) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

test('no production module computes its own exponential back-off', () => {
  assert.deepEqual(handWrittenBackoffs(readTree()), []);
});

test('the check finds a hand-written back-off', () => {
  const planted = new Map([['edge/src/uplink/planted.ts', 'const delay = Math.min(30_000, 250 * 2 ** failures);\n']]);
  assert.deepEqual(handWrittenBackoffs(planted), ['edge/src/uplink/planted.ts:1: const delay = Math.min(30_000, 250 * 2 ** failures);']);
});
