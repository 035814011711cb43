// deploy/edge/install.sh into a scratch root: the user, folders, permissions, unit and wrappers it
// creates, an upgrade that keeps config and outbox, and an uninstall that keeps them too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageApp } from '../../scripts/package.ts';

const ROOT_DIR = join(import.meta.dirname, '..', '..');
const INSTALL = join(ROOT_DIR, 'deploy', 'edge', 'install.sh');
let work: string;
let scratch: string;
let fakeBin: string;
let pkg: string;

function run(args: string[]): { status: number; out: string } {
  const result = spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` } });
  return { status: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
}

function systemctlCalls(): string[] {
  const log = join(work, 'systemctl.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

function idOf(file: string, name: string): number {
  const line = readFileSync(join(scratch, file), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `${name} missing from ${file}`);
  return Number(line.split(':')[2]);
}

function mode(path: string): string {
  return (statSync(join(scratch, path)).mode & 0o7777).toString(8);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'gridwatch-install-'));
  scratch = join(work, 'root');
  mkdirSync(join(scratch, 'etc'), { recursive: true });
  for (const file of ['passwd', 'group', 'shadow', 'gshadow']) {
    if (existsSync(`/etc/${file}`)) copyFileSync(`/etc/${file}`, join(scratch, 'etc', file));
  }
  // systemctl is faked (no systemd runs here): it records its arguments for the assertions.
  fakeBin = join(work, 'bin');
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${join(work, 'systemctl.log')}\n`);
  chmodSync(join(fakeBin, 'systemctl'), 0o755);
  pkg = join(work, 'pkg');
  await packageApp('edge', pkg, { withNodeModules: true });
});

after(() => rmSync(work, { recursive: true, force: true }));

test('install creates the user, folders, unit and CLI wrappers with the right owners and modes', () => {
  const result = run(['install', '--from', pkg, '--root', scratch, '--memory-max', '200M']);
  assert.equal(result.status, 0, result.out);

  const passwd = readFileSync(join(scratch, 'etc/passwd'), 'utf8');
  assert.match(passwd, /^gridwatch:x:\d+:\d+:GridWatch edge agent:\/var\/lib\/gridwatch:\/usr\/sbin\/nologin$/m);
  const dialout = readFileSync(join(scratch, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith('dialout:'));
  assert.match(dialout ?? '', /[:,]gridwatch(,|$)/, 'gridwatch is in dialout for serial ports');
  const uid = idOf('etc/passwd', 'gridwatch');
  const gid = idOf('etc/group', 'gridwatch');
  assert.ok(uid < 1000, 'a system user');

  const data = statSync(join(scratch, 'var/lib/gridwatch'));
  assert.equal(data.uid, uid);
  assert.equal(mode('var/lib/gridwatch'), '750');
  const config = statSync(join(scratch, 'etc/gridwatch'));
  assert.equal(config.uid, 0);
  assert.equal(config.gid, gid);
  assert.equal(mode('etc/gridwatch'), '750');
  assert.equal(mode('etc/gridwatch/edge.yaml'), '640');
  assert.equal(statSync(join(scratch, 'etc/gridwatch/edge.yaml')).gid, gid);

  const unit = readFileSync(join(scratch, 'etc/systemd/system/gridwatch-edge.service'), 'utf8');
  for (const line of ['Type=notify', 'Restart=on-failure', 'WatchdogSec=30s', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/gridwatch', 'MemoryMax=200M', 'User=gridwatch', 'SupplementaryGroups=dialout', 'NoNewPrivileges=true']) {
    assert.ok(unit.split('\n').includes(line), `unit lacks ${line}`);
  }
  assert.equal(mode('etc/systemd/system/gridwatch-edge.service'), '644');
  assert.deepEqual(systemctlCalls(), [`--root=${scratch} enable gridwatch-edge.service`]);

  assert.equal(readlinkSync(join(scratch, 'opt/gridwatch/edge/current')), '0.1.0');
  for (const wrapper of ['gridwatch', 'gridwatch-edge']) {
    assert.match(readFileSync(join(scratch, 'usr/local/bin', wrapper), 'utf8'), /exec node \/opt\/gridwatch\/edge\/current\/dist\/gridwatch-edge\.mjs "\$@"/);
    assert.equal(mode(`usr/local/bin/${wrapper}`), '755');
  }
  // The installed bundle really runs: its CLI answers --help from inside the scratch root.
  const help = execFileSync(process.execPath, [join(scratch, 'opt/gridwatch/edge/current/dist/gridwatch-edge.mjs'), 'check', '--help'], { encoding: 'utf8' });
  assert.match(help, /validate a config file/i);
});

test('systemd-analyze verify accepts the installed unit', { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'systemd-analyze not installed' }, () => {
  // verify resolves ExecStart= inside --root, where the wrapper exists; the scratch root borrows
  // this machine's stock units (sysinit.target …) as a Debian root would have them.
  mkdirSync(join(scratch, 'usr/lib/systemd'), { recursive: true });
  if (!existsSync(join(scratch, 'usr/lib/systemd/system'))) symlinkSync('/usr/lib/systemd/system', join(scratch, 'usr/lib/systemd/system'));
  const result = spawnSync('systemd-analyze', ['verify', `--root=${scratch}`, '/etc/systemd/system/gridwatch-edge.service'], { encoding: 'utf8' });
  const complaints = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.includes('gridwatch-edge.service'));
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.deepEqual(complaints, []);
});

test('upgrade keeps the config and the outbox, switches the version and keeps one previous', () => {
  writeFileSync(join(scratch, 'etc/gridwatch/edge.yaml'), 'version: 1 # edited by the installer\n');
  writeFileSync(join(scratch, 'var/lib/gridwatch/edge.db'), 'undelivered alarms');
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(pkg, 'package.json'), `${JSON.stringify({ ...manifest, version: '0.1.1' }, null, 2)}\n`);

  const result = run(['upgrade', '--from', pkg, '--root', scratch]);
  assert.equal(result.status, 0, result.out);
  assert.equal(readlinkSync(join(scratch, 'opt/gridwatch/edge/current')), '0.1.1');
  assert.ok(existsSync(join(scratch, 'opt/gridwatch/edge/0.1.0')), 'the previous version stays for rollback');
  assert.equal(readFileSync(join(scratch, 'etc/gridwatch/edge.yaml'), 'utf8'), 'version: 1 # edited by the installer\n');
  assert.equal(readFileSync(join(scratch, 'var/lib/gridwatch/edge.db'), 'utf8'), 'undelivered alarms');
});

test('uninstall removes the agent but keeps config and outbox; --purge removes them', () => {
  const result = run(['uninstall', '--root', scratch]);
  assert.equal(result.status, 0, result.out);
  assert.ok(!existsSync(join(scratch, 'etc/systemd/system/gridwatch-edge.service')));
  assert.ok(!existsSync(join(scratch, 'opt/gridwatch/edge')));
  assert.ok(!existsSync(join(scratch, 'usr/local/bin/gridwatch')));
  assert.equal(readFileSync(join(scratch, 'var/lib/gridwatch/edge.db'), 'utf8'), 'undelivered alarms');
  assert.ok(existsSync(join(scratch, 'etc/gridwatch/edge.yaml')));
  assert.ok(systemctlCalls().includes(`--root=${scratch} disable gridwatch-edge.service`));

  const purge = run(['uninstall', '--purge', '--root', scratch]);
  assert.equal(purge.status, 0, purge.out);
  assert.ok(!existsSync(join(scratch, 'var/lib/gridwatch')));
  assert.ok(!existsSync(join(scratch, 'etc/gridwatch')));
  assert.doesNotMatch(readFileSync(join(scratch, 'etc/passwd'), 'utf8'), /^gridwatch:/m);
});

test('wrong usage exits 2 and names the problem; a folder that is not a package is refused', () => {
  const noFrom = run(['install', '--root', scratch]);
  assert.equal(noFrom.status, 2);
  assert.match(noFrom.out, /needs --from/);
  const badSize = run(['install', '--from', pkg, '--root', scratch, '--memory-max', 'lots']);
  assert.equal(badSize.status, 2);
  assert.match(badSize.out, /--memory-max: expected a size/);
  const notPkg = run(['install', '--from', work, '--root', scratch]);
  assert.equal(notPkg.status, 1);
  assert.match(notPkg.out, /is not an edge package/);
});
