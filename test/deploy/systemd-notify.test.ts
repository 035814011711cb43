// Under systemd (Type=notify, WatchdogSec=) the agent reports READY=1 once it serves, pets the
// watchdog while healthy and says STOPPING=1 on SIGTERM. systemd-notify(1) is replaced by a
// recorder, since no systemd runs here; the agent is the real CLI in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { eventually } from '../support/eventually.ts';

const ROOT = join(import.meta.dirname, '..', '..');

test('the agent notifies READY=1, pets the watchdog and says STOPPING=1', async () => {
  const work = mkdtempSync(join(tmpdir(), 'gridwatch-notify-'));
  const bin = join(work, 'bin');
  const log = join(work, 'notify.log');
  mkdirSync(bin);
  writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${log}\n`);
  chmodSync(join(bin, 'systemd-notify'), 0o755);
  const config = join(work, 'edge.yaml');
  writeFileSync(
    config,
    ['version: 1', 'gateway: { id: gw-notify, site: test }', 'dataDir: ./data', 'logLevel: warn', 'cloud: { url: "mqtt://127.0.0.1:9", password: unused-secret }', 'local: { mqttPort: 0, httpPort: 0 }', 'devices: []', ''].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), 'run', '--config', config], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NOTIFY_SOCKET: '/run/test-notify', WATCHDOG_USEC: '400000', WATCHDOG_PID: '' },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    await eventually('three watchdog pings', () => (lines().filter((l) => l.endsWith('WATCHDOG=1')).length >= 3 ? true : undefined), 20_000);
    const [first] = lines();
    assert.match(first ?? '', /^\/run\/test-notify --ready --status=gateway gw-notify: local broker on \d+, health on \d+$/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(lines().some((l) => l.endsWith('STOPPING=1')), 'STOPPING=1 on shutdown');
  } finally {
    child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
});

test('outside systemd the agent sends nothing', async () => {
  const { SystemdNotifier } = await import('../../edge/src/systemd/notify.ts');
  const notifier = new SystemdNotifier({ env: {}, command: '/nonexistent/systemd-notify', onError: () => assert.fail('must not run the helper') });
  assert.equal(notifier.enabled, false);
  assert.equal(notifier.watchdogIntervalMs, null);
  notifier.ready('x');
  notifier.stopping();
  const withWatchdog = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' } });
  assert.equal(withWatchdog.watchdogIntervalMs, 15_000, 'half of WatchdogSec');
  const otherPid = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) } });
  assert.equal(otherPid.watchdogIntervalMs, null, 'the watchdog belongs to another process');
});
