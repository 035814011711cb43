// The three commands of a checkout: after `npm ci`, `npx gridwatch`, `npx gridwatch-cloud` and
// `npx gridwatch-sim` run from any folder of the checkout (the launchers resolve tsx from their own
// location), npm links them because the workspaces' package.json and the lockfile declare them,
// and the packaged builds install the same command names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageApp } from '../../scripts/package.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const COMMANDS = { gridwatch: 'edge', 'gridwatch-cloud': 'cloud', 'gridwatch-sim': 'sim' } as const;
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

test('each workspace declares its command, the lockfile carries it (so npm ci links it) and it is linked', () => {
  const lock = readJson<{ packages: Record<string, { bin?: Record<string, string> }> }>(join(ROOT, 'package-lock.json'));
  for (const [command, workspace] of Object.entries(COMMANDS)) {
    const manifest = readJson<{ bin?: Record<string, string> }>(join(ROOT, workspace, 'package.json'));
    const launcher = manifest.bin?.[command];
    assert.ok(launcher, `${workspace}/package.json has bin.${command}`);
    assert.ok(existsSync(join(ROOT, workspace, launcher)), `${workspace}/${launcher} exists`);
    assert.deepEqual(lock.packages[workspace]?.bin, manifest.bin, `package-lock.json records ${workspace}'s bin (npm ci links from the lockfile)`);
    assert.ok(existsSync(join(ROOT, 'node_modules', '.bin', command)), `node_modules/.bin/${command} is linked`);
  }
});

for (const folder of ['edge', 'docs', 'cloud/src']) {
  test(`npx gridwatch, gridwatch-cloud and gridwatch-sim print their help from ${folder}/`, async () => {
    for (const command of Object.keys(COMMANDS)) {
      // --no: never fetch from the registry; only the checkout's own link may answer.
      const { stdout } = await run('npx', ['--no', '--', command, '--help'], { cwd: join(ROOT, folder), env: { ...process.env, npm_config_update_notifier: 'false' } });
      assert.match(stdout, /^Usage: gridwatch/m, `${command} from ${folder}/`);
      assert.match(stdout, /Commands:/, `${command} lists its commands`);
    }
  });
}

test('the packaged builds install the same command names', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gridwatch-bins-'));
  try {
    for (const app of ['edge', 'cloud'] as const) {
      await packageApp(app, join(out, app), { withNodeModules: false });
      const manifest = readJson<{ bin: Record<string, string> }>(join(out, app, 'package.json'));
      const expected = Object.entries(COMMANDS).filter(([, ws]) => (app === 'edge' ? ws !== 'cloud' : ws === 'cloud')).map(([c]) => c).sort();
      assert.deepEqual(Object.keys(manifest.bin).sort(), expected);
      for (const file of Object.values(manifest.bin)) assert.ok(existsSync(join(out, app, file)), `${app}: ${file} is built`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
