// scripts/run-tests.mjs: with CI set, a skipped test (a missing Mosquitto, TSDB, …) fails the run,
// and so does a test that writes into the working tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = 'test/support/fixtures/skips-for-a-peer.ts';

function runTests(ci: string | undefined, fixture = FIXTURE) {
  const env = { ...process.env };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  // The runner's own test context must not leak into the child run.
  delete env.NODE_TEST_CONTEXT;
  return spawnSync(process.execPath, [join(ROOT, 'scripts/run-tests.mjs'), fixture], { cwd: ROOT, env, encoding: 'utf8' });
}

test('with CI=true a skipped test fails the run and is named', () => {
  const run = runTests('true');
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /1 test\(s\) skipped/);
  assert.match(run.stderr, /needs a peer that is missing \(fake-peer not installed\)/);
});

test('outside CI the same run passes and reports the skip', () => {
  const run = runTests(undefined);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /skipped 1/);
});

test('with CI=true a test that writes into the working tree fails the run and the file is named', () => {
  const written = join(ROOT, 'test/support/fixtures/written-by-a-test.tmp');
  try {
    const run = runTests('true', 'test/support/fixtures/writes-into-the-tree.ts');
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /changed the working tree/);
    assert.match(run.stderr, /\?\? test\/support\/fixtures\/written-by-a-test\.tmp/);
  } finally {
    rmSync(written, { force: true });
  }
});
