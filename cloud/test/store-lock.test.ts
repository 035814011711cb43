// One process owns an embedded PGlite folder: a second opener gets a clear error naming the owner
// (instead of a silently diverging copy), a stale lock of a dead process is taken over, and
// `gridwatch-cloud user add` beside a running cloud goes through its API, so the user can log in
// at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgliteStore, StoreLockedError } from '../src/store/pglite.ts';
import { lockFileOf } from '../src/store/pglite-lock.ts';
import { eventually } from './helpers.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'gridwatch-cloud.mjs');
const run = promisify(execFile);

test('a second open of a PGlite folder is refused while the first is open, and allowed after close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-lock-'));
  try {
    const first = await PgliteStore.open(dir);
    await assert.rejects(PgliteStore.open(dir), (err: unknown) => {
      assert.ok(err instanceof StoreLockedError);
      assert.match(err.message, new RegExp(`^dataDir: .* is in use by process ${process.pid} on `));
      assert.match(err.message, /stop that process, or send admin commands to its API/);
      return true;
    });
    await first.close();
    const again = await PgliteStore.open(dir);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock left by a process that is gone (kill -9) is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-lock-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString() }));
    const store = await PgliteStore.open(dir);
    assert.equal(JSON.parse(readFileSync(lockFileOf(dir), 'utf8')).pid, process.pid);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('another host\'s lock counts while it is refreshed and is taken over once it is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-lock-'));
  try {
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid: 1, hostname: 'other-host', startedAt: new Date().toISOString() }));
    await assert.rejects(PgliteStore.open(dir), /in use by process 1 on other-host/);
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(lockFileOf(dir), longAgo, longAgo);
    const store = await PgliteStore.open(dir);
    assert.equal(JSON.parse(readFileSync(lockFileOf(dir), 'utf8')).hostname, hostname());
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gridwatch-cloud user add while serve runs: created through its API, can log in at once; other store commands get a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-lock-serve-'));
  const tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, 'admin-token-for-the-lock-test\n', { mode: 0o600 });
  const serve = spawn(process.execPath, [CLI, 'serve', '--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--admin-token-file', tokenFile, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  serve.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const apiUrl = await eventually(`serve advertising its API in the lock (stderr: ${stderr})`, () => {
      const holder = JSON.parse(readFileSync(lockFileOf(dir), 'utf8')) as { httpUrl?: string };
      return holder.httpUrl;
    }, 60_000);
    const args = ['user', 'add', '--data-dir', dir, '--username', 'wang.wei', '--password', 'worker-password-1', '--role', 'grid_worker', '--jurisdiction', 'grid:LH-DX-G01', '--display-name', '王伟'];

    const refused = await run(process.execPath, [CLI, ...args]).then(() => null, (err: { stderr: string; code: number }) => err);
    assert.ok(refused, 'without the admin token the running cloud refuses');
    assert.match(refused.stderr, /admin token: refused by the running cloud/);

    await run(process.execPath, [CLI, ...args, '--admin-token-file', tokenFile]);
    const login = await fetch(`${apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'wang.wei', password: 'worker-password-1' }) });
    assert.equal(login.status, 200, 'the running cloud knows the user at once');
    assert.equal(((await login.json()) as { user: { displayName: string } }).user.displayName, '王伟');

    const again = await run(process.execPath, [CLI, ...args, '--admin-token-file', tokenFile, '--if-absent']);
    assert.match(again.stdout, /user already exists; left as it is/);

    const gateway = await run(process.execPath, [CLI, 'gateway', 'add', '--data-dir', dir, '--id', 'gw-x', '--site', 's', '--secret', 'gateway-secret-x1']).then(() => null, (err: { stderr: string }) => err);
    assert.ok(gateway, 'a second process may not open the store');
    assert.match(gateway.stderr, new RegExp(`is in use by process ${serve.pid} .*API at ${apiUrl.replace(/[.]/g, '\\.')}`));
  } finally {
    const exited = new Promise((resolve) => serve.once('exit', resolve));
    serve.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
