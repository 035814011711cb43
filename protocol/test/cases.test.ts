// Golden wire fixtures (CONVENTIONS.md #6): protocol/test/cases/<slug>/message.json (old and new
// message shapes, bad input) → expected.json. One runner drives every case through the decoders the
// two receivers use: the edge decodes ack/config with decodeMessage (edge/src/uplink), the cloud
// decodes status/telemetry with it and events with its per-event checker (cloud/src/ingest).
//
// expected.json: { kind, decode: { ok, error?: substring, stripped?: JSON pointers ignored },
//                  cloud?: { accepted?: ids, rejected: ids, reason?: substring, refused?: substring } }
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, type MessageKind } from '../src/index.ts';
import { checkEvents } from '../../cloud/src/ingest/check-events.ts';

interface Expected {
  kind: MessageKind;
  decode: { ok: boolean; error?: string; stripped?: string[] };
  cloud?: { accepted?: string[]; rejected: string[]; reason?: string; refused?: string };
}

const CASES = join(import.meta.dirname, 'cases');

function removePointer(value: unknown, pointer: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const parts = pointer.split('/').slice(1);
  let node: unknown = copy;
  for (const part of parts.slice(0, -1)) node = (node as Record<string, unknown>)[part];
  delete (node as Record<string, unknown>)[parts.at(-1) as string];
  return copy;
}

function hasPointer(value: unknown, pointer: string): boolean {
  let node: unknown = value;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

function runDecode(slug: string, payload: Buffer, expected: Expected): void {
  const decoded = decodeMessage(expected.kind, payload);
  assert.equal(decoded.ok, expected.decode.ok, `${slug}: decode ${decoded.ok ? 'accepted' : `refused (${decoded.ok ? '' : decoded.error})`}`);
  if (!decoded.ok) {
    assert.ok(decoded.error.includes(expected.decode.error ?? ''), `${slug}: error "${decoded.error}" lacks "${expected.decode.error}"`);
    return;
  }
  // Accepted: equal to what was sent, minus exactly the properties the receiver ignores.
  let want: unknown = JSON.parse(payload.toString('utf8'));
  for (const pointer of expected.decode.stripped ?? []) {
    assert.ok(hasPointer(want, pointer), `${slug}: the fixture has ${pointer}`);
    want = removePointer(want, pointer);
  }
  assert.deepEqual(decoded.value, want, `${slug}: decoded value`);
}

function runCloudEvents(slug: string, payload: Buffer, expected: NonNullable<Expected['cloud']>): void {
  const checked = checkEvents('gw-01', payload);
  if (!checked.ok) {
    assert.ok(expected.refused, `${slug}: the cloud refused the envelope (${checked.reason})`);
    assert.ok(checked.reason.includes(expected.refused), `${slug}: ${checked.reason}`);
    assert.deepEqual(checked.answerIds, expected.rejected, `${slug}: every readable id is answered`);
    return;
  }
  assert.equal(expected.refused, undefined, `${slug}: expected the envelope refused`);
  assert.deepEqual(checked.events.map((e) => e.id), expected.accepted ?? [], `${slug}: accepted ids`);
  assert.deepEqual(checked.refused.map((r) => r.id), expected.rejected, `${slug}: rejected ids`);
  for (const r of checked.refused) assert.ok(r.reason.includes(expected.reason ?? ''), `${slug}: reason "${r.reason}"`);
}

const slugs = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test('there are golden wire cases for every message kind', () => {
  const kinds = new Set(slugs.map((slug) => (JSON.parse(readFileSync(join(CASES, slug, 'expected.json'), 'utf8')) as Expected).kind));
  for (const kind of ['events', 'ack', 'config', 'status', 'telemetry']) assert.ok(kinds.has(kind as MessageKind), kind);
});

for (const slug of slugs) {
  test(`wire case ${slug}`, () => {
    const payload = readFileSync(join(CASES, slug, 'message.json'));
    const expected = JSON.parse(readFileSync(join(CASES, slug, 'expected.json'), 'utf8')) as Expected;
    runDecode(slug, payload, expected);
    if (expected.kind === 'events') {
      assert.ok(expected.cloud, `${slug}: events cases say what the cloud answers`);
      runCloudEvents(slug, payload, expected.cloud);
    }
  });
}
