// docs/ARCHITECTURE.md is kept true: every .ts file is in a room and imports only what its room's
// rule allows (or a named temporary exception). The check is shown to fail on planted backwards
// imports, added to an in-memory copy of the tree (the working tree is never touched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, cycleInRules, loadRules, readTree, type ImportEdge, type Report } from './imports.ts';

const rules = loadRules();
const tree = readTree();

function explain(report: Report): string {
  const lines = [
    ...report.homeless.map((f) => `${f}: in no room (add it to a room in docs/ARCHITECTURE.md)`),
    ...report.violations.map((v) => `${v.file}: imports ${v.specifier} — room ${v.from} may not import ${v.to}`),
    ...report.unusedExceptions.map((e) => `exception ${e.from} -> ${e.to} is no longer used: remove it from docs/ARCHITECTURE.md`),
  ];
  return lines.join('\n');
}

test('the rules block of docs/ARCHITECTURE.md parses and its rooms form no cycle', () => {
  assert.ok(rules.rooms.length > 10, 'rooms are declared');
  for (const room of rules.rooms) assert.ok(room.rule.trim().length > 0, `${room.room} has a one-line rule`);
  assert.equal(cycleInRules(rules), null);
});

test('every import of the tree follows the rules of its room', () => {
  const report = check(tree, rules);
  assert.equal(explain({ ...report, unusedExceptions: [] }), '');
  assert.ok(tree.size > 100, `the whole tree was read (${tree.size} files)`);
});

test('every temporary exception is still needed (the list only shrinks)', () => {
  const { unusedExceptions } = check(tree, rules);
  assert.equal(explain({ homeless: [], violations: [], unusedExceptions }), '');
});

test('planted backwards imports fail the check, named by file and rooms', () => {
  const planted = new Map(tree);
  // A driver reaching forward into the uplink, the wire contract importing the edge, the outbox
  // importing a driver (type-only imports count), and ingest importing a job.
  planted.set('edge/src/drivers/planted.ts', "import { Uplink } from '../uplink/uplink.ts';\nexport const u = Uplink;\n");
  planted.set('protocol/src/planted.ts', "export { startAgent } from '@gridwatch/edge';\n");
  planted.set('edge/src/outbox/planted.ts', "import type { Driver } from '../drivers/types.ts';\nexport type D = Driver;\n");
  planted.set('cloud/src/ingest/planted.ts', "export const jobs = () => import('../jobs/index.ts');\n");
  planted.set('edge/src/newroom/planted.ts', 'export const x = 1;\n');
  const report = check(planted, rules);
  const got = report.violations.filter((v) => v.file.endsWith('/planted.ts')).map((v: ImportEdge) => `${v.file} ${v.from} -> ${v.to}`);
  assert.deepEqual(got.sort(), [
    'cloud/src/ingest/planted.ts cloud/ingest -> cloud/jobs',
    'edge/src/drivers/planted.ts edge/drivers -> edge/uplink',
    'edge/src/outbox/planted.ts edge/outbox -> edge/drivers',
    'protocol/src/planted.ts protocol -> edge/root',
  ]);
  assert.deepEqual(report.homeless.filter((f) => f.endsWith('/planted.ts')), ['edge/src/newroom/planted.ts'], 'a folder no room claims is reported');
  assert.match(explain(report), /edge\/src\/drivers\/planted\.ts: imports \.\.\/uplink\/uplink\.ts — room edge\/drivers may not import edge\/uplink/);
});

test('a rule that allows a cycle is refused', () => {
  const cyclic = structuredClone(rules);
  cyclic.rooms.find((r) => r.room === 'protocol')!.may.push('edge/drivers');
  const cycle = cycleInRules(cyclic);
  assert.ok(cycle && cycle[0] === cycle.at(-1) && cycle.includes('protocol') && cycle.includes('edge/drivers'), JSON.stringify(cycle));
});
