#!/usr/bin/env node
// Runs every *.test.ts under the workspaces and test/ through node's test runner (Node 20 has no
// glob in `node --test`). Extra arguments filter by path substring: `npm run test:unit -- cloud`;
// an argument naming an existing .ts file runs that file even if it is not a *.test.ts.
// With CI set, a skipped test fails the run: a test skips when a peer (Mosquitto, a TSDB, …) is
// missing, and CI must install every peer rather than go green on less than it claims. A run must
// also leave `git status` as it found it (tests write to os.tmpdir()): with CI set a change fails
// the run, otherwise it is reported.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['protocol', 'firmware-profiles', 'edge', 'cloud', 'sim', 'node-red', 'test'];
const skip = new Set(['node_modules', 'data', '.git']);

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const args = process.argv.slice(2);
const explicit = args.filter((arg) => arg.endsWith('.ts') && existsSync(join(root, arg)));
const filters = args.filter((arg) => !explicit.includes(arg));
const files = roots
  .flatMap((dir) => collect(join(root, dir), []))
  .filter((file) => (filters.length === 0 && explicit.length === 0) || filters.some((f) => file.includes(f)))
  .concat(explicit)
  .filter((file, i, all) => all.indexOf(file) === i)
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${args.join(' ') || '(all)'}`);
  process.exit(1);
}

const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const tapDir = mkdtempSync(join(tmpdir(), 'gw-test-run-'));
const tapFile = join(tapDir, 'run.tap');
// A second reporter writes TAP to a file so the skips can be counted after the run.
const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`];
const treeBefore = treeState();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...files], {
  cwd: root,
  stdio: 'inherit',
});
const status = result.status ?? 1;
const skipped = skippedTests(existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '');
rmSync(tapDir, { recursive: true, force: true });
let failed = false;
if (ci && skipped.length > 0) {
  console.error(`\nCI: ${skipped.length} test(s) skipped; in CI every test must run (install the peer it needs):`);
  for (const line of skipped) console.error(`  - ${line}`);
  failed = true;
}
const changed = treeChanges(treeBefore, treeState());
if (changed.length > 0) {
  console.error(`\n${ci ? 'CI: ' : ''}the test run changed the working tree (tests must write to os.tmpdir()):`);
  for (const line of changed) console.error(`  ${line}`);
  if (ci) failed = true;
}
process.exit(failed && status === 0 ? 1 : status);

/** `git status` lines plus a hash of each changed file's content, or null outside a git checkout. */
function treeState() {
  const status = spawnSync('git', ['status', '--porcelain=v1', '-uall', '-z'], { cwd: root, encoding: 'utf8' });
  if (status.status !== 0) return null;
  const state = new Map();
  for (const entry of status.stdout.split('\0').filter(Boolean)) {
    const path = entry.slice(3);
    let hash = 'gone';
    try {
      hash = createHash('sha1').update(readFileSync(join(root, path))).digest('hex');
    } catch {
      // deleted, or a directory entry
    }
    state.set(path, `${entry.slice(0, 2)} ${hash}`);
  }
  return state;
}

function treeChanges(before, after) {
  if (!before || !after) return [];
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).map((p) => `${(after.get(p) ?? '   ').slice(0, 2)} ${p}`);
}

/** `ok 3 - name # SKIP reason` lines of node's TAP output, as "name (reason)". */
function skippedTests(tap) {
  const out = [];
  for (const line of tap.split('\n')) {
    const match = /^\s*ok \d+ - (.*?) # SKIP\s*(.*)$/.exec(line);
    if (match) out.push(`${match[1].replace(/\\#/g, '#')}${match[2] ? ` (${match[2]})` : ''}`);
  }
  return out;
}
