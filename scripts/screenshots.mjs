#!/usr/bin/env node
// Writes the console screenshots of docs/screenshots/ on purpose (tests write theirs to a temporary
// folder, so `npm test` leaves the tree clean): board, detail, map and overview at desktop
// (1366×768) and phone (360×740) size, zh-CN and en — console-<screen>-<size>-<lang>.png, 16 in
// all. Runs test/e2e/console-screens.test.ts with GRIDWATCH_SCREENSHOT_DIR set; needs Debian's
// chromium like the test itself. Builds the console bundle first (the server would too).
// Usage: npm run screenshots [-- --out DIR]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const at = process.argv.indexOf('--out');
const out = resolve(at > 0 && process.argv[at + 1] ? process.argv[at + 1] : join(root, 'docs/screenshots'));
const build = spawnSync(process.execPath, ['--import', 'tsx', 'cloud/src/console/build.ts'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/e2e/console-screens.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, GRIDWATCH_SCREENSHOT_DIR: out },
});
if (run.status !== 0) process.exit(run.status ?? 1);
console.log(`screenshots in ${out}: ${readdirSync(out).filter((f) => f.endsWith('.png')).join(', ')}`);
