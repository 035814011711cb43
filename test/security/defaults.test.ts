// Safe defaults: `serve` reachable from the network refuses open access and a missing admin token
// (exit 2, naming the fix); the loopback demo still starts with no flags; secrets come from files
// without a warning and from argv with one; `certs` makes a CA and a server certificate, and the
// embedded broker serves MQTT over TLS with it (a gateway trusting only that CA connects; plain
// MQTT clients cannot reach the TLS port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud } from '../../cloud/src/index.ts';
import { CLOUD_MAIN, ROOT, Tally, spawnCloud, tryConnect } from './support.ts';

function cloudCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLOUD_MAIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

test('serve on 0.0.0.0 with open access or without an admin token exits 2 and names the fix', () => {
  const tally = new Tally();
  const open = cloudCli(['serve', '--http-host', '0.0.0.0', '--http-port', '0', '--mqtt-port', '0', '--data-dir', 'memory://']);
  tally.record('exposed with open access', open.status !== 2);
  assert.match(open.stderr, /--open-access false/);
  const noToken = cloudCli(['serve', '--http-host', '0.0.0.0', '--http-port', '0', '--mqtt-port', '0', '--data-dir', 'memory://', '--open-access', 'false']);
  tally.record('exposed without admin token', noToken.status !== 2);
  assert.match(noToken.stderr, /--admin-token-file/);
  assert.match(noToken.stderr, /GRIDWATCH_ADMIN_TOKEN/);
  tally.assertNoneAccepted();
});

test('secrets from a file start the exposed cloud without a warning; on argv they warn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-secrets-'));
  try {
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, 'admin-token-from-a-file-0001\n');
    const fromFile = await spawnCloud(['--http-host', '0.0.0.0', '--data-dir', 'memory://', '--open-access', 'false', '--admin-token-file', tokenFile]);
    try {
      const res = await fetch(`${fromFile.httpUrl}/api/v1/dead-letters`, { headers: { authorization: 'Bearer admin-token-from-a-file-0001' } });
      assert.equal(res.status, 200, 'the token read from the file (newline dropped) is the admin token');
    } finally {
      await fromFile.stop();
    }
    const onArgv = cloudCli(['serve', '--http-host', '0.0.0.0', '--http-port', '0', '--data-dir', 'memory://', '--open-access', 'true', '--admin-token', 'visible-in-ps-0001']);
    assert.match(onArgv.stderr, /warning: --admin-token on the command line is visible/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the loopback demo still starts with no flags but a data folder', async () => {
  const demo = await spawnCloud(['--data-dir', 'memory://']);
  const res = await fetch(`${demo.httpUrl}/healthz`);
  assert.equal(res.status, 200);
  await demo.stop();
});

test('`certs` makes a CA and a server certificate; the embedded broker serves mqtts with them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-certs-'));
  const made = cloudCli(['certs', '--dir', dir, '--host', '127.0.0.1', '--host', 'localhost']);
  assert.equal(made.status, 0, made.stderr);
  const files = JSON.parse(made.stdout) as { caCert: string; serverCert: string; serverKey: string };
  const again = cloudCli(['certs', '--dir', dir, '--if-absent']);
  assert.equal(again.status, 0);
  assert.equal(readFileSync(files.caCert, 'utf8'), readFileSync(join(dir, 'ca.crt'), 'utf8'));
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, mqttsPort: 0, tlsCert: files.serverCert, tlsKey: files.serverKey, dataDir: 'memory://', logLevel: 'silent' });
  const gw = { gatewayId: 'gw-tls-01', site: 'site-t', secret: 'tls-gateway-secret' };
  try {
    await cloud.gateways.addGateway(gw);
    assert.ok(cloud.mqttsPort);
    const url = `mqtts://127.0.0.1:${cloud.mqttsPort}`;
    const ok = await tryConnect(url, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret, ca: readFileSync(files.caCert) });
    assert.equal(ok.accepted, true, 'a gateway trusting the private CA connects over TLS');
    const tally = new Tally();
    const untrusted = await tryConnect(url, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret, rejectUnauthorized: true });
    tally.record('TLS without trusting the CA', untrusted.accepted);
    const plain = await tryConnect(`mqtt://127.0.0.1:${cloud.mqttsPort}`, { clientId: gw.gatewayId, username: gw.gatewayId, password: gw.secret, connectTimeout: 2000 });
    tally.record('plain MQTT on the TLS port', plain.accepted);
    tally.assertNoneAccepted();
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planted regression: without the exposure guard an exposed cloud with the demo defaults serves anyone', async () => {
  // The guard is `serve`'s exposureProblem() check; startCloud (the library) does not run it, so
  // starting in-process is the guard switched off with the very configuration it refuses.
  const { exposureProblem, resolveConfig } = await import('../../cloud/src/config.ts');
  const input = { httpHost: '0.0.0.0', httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent' } as const;
  assert.match(exposureProblem(resolveConfig(input)) ?? '', /--open-access false/, 'the guard refuses this configuration');
  const exposed = await startCloud(input);
  try {
    const tally = new Tally();
    for (const path of ['/api/v1/incidents', '/api/v1/overview']) {
      const res = await fetch(`${exposed.httpUrl}${path}`);
      await res.arrayBuffer();
      tally.record(`anonymous GET ${path}`, res.status === 200);
    }
    const summary = tally.summary();
    assert.equal(summary['anonymous GET /api/v1/incidents']?.accepted, 1, JSON.stringify(summary));
  } finally {
    await exposed.stop();
  }
});
