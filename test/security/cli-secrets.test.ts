// Secrets in CLI output: `gridwatch device list --json` on a config with MQTT devices prints no
// device password (the JSON goes to scripts, logs and tickets). Accepted = a password appears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Tally } from './support.ts';

const PASSWORDS = ['lobby-detector-pw-0001', 'kitchen-detector-pw-0002'];

test('`gridwatch device list --json` prints no MQTT password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cli-secrets-'));
  try {
    const config = join(dir, 'edge.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'gateway: { id: gw-secrets-01, site: site-s }',
        `dataDir: ${join(dir, 'data')}`,
        'cloud: { url: "mqtt://127.0.0.1:1", password: gateway-secret-not-printed }',
        'devices:',
        `  - { id: smoke-lobby, profile: generic/smoke-mqtt, mqtt: { username: smoke-lobby, password: ${PASSWORDS[0]} } }`,
        `  - { id: smoke-kitchen, profile: generic/smoke-mqtt, mqtt: { username: smoke-kitchen, password: ${PASSWORDS[1]} } }`,
        '',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), 'device', 'list', '--config', config, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const listed = JSON.parse(run.stdout) as { devices: { id: string }[] };
    assert.deepEqual(listed.devices.map((d) => d.id), ['smoke-lobby', 'smoke-kitchen'], 'the devices are listed');
    const tally = new Tally();
    for (const secret of [...PASSWORDS, 'gateway-secret-not-printed']) tally.record('secret in device list output', run.stdout.includes(secret) || run.stderr.includes(secret));
    tally.assertNoneAccepted();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
