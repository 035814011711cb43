// Adding a transport is one folder plus one registration line: a fixture transport
// (fixtures/transports/loopback) registered here runs a device through config validation, device
// binding, the agent's driver set-up, the decoder, the rules and the outbox — and no file outside
// its folder names it. Once removed, its profiles and config blocks are refused again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles, ProfileError } from '@gridwatch/firmware-profiles';
import { bindDevices, ConfigError, resolveConfig, startAgent } from '../src/index.ts';
import { registerTransport } from '../src/drivers/registry.ts';
import { drivers, loopbackTransport } from './fixtures/transports/loopback/index.ts';
import { captureLogger, tempDir } from './helpers.ts';

const PROFILE = `id: test/loop-contact
version: 1.0.0
name: Loopback contact
class: io_module
transport: loopback
points:
  - { name: contact, key: c, type: boolean, unit: none }
  - { name: level, key: lvl, type: number, unit: percent }
heartbeatSeconds: 60
rules:
  - { kind: state, point: contact, alarmType: water_leak, level: 3, reason: contact closed }
`;

function raw(dataDir: string, profilesDir: string, device: Record<string, unknown> = { bus: 'loop0', channel: 'a' }) {
  return {
    version: 1,
    gateway: { id: 'gw-loop', site: 'lab' },
    dataDir,
    profilesDir,
    cloud: { url: 'mqtt://127.0.0.1:1', password: 'pw' },
    local: { mqttPort: 0, httpPort: 0 },
    buses: [{ id: 'loop0', kind: 'loop' }],
    devices: [{ id: 'leak-1', profile: 'test/loop-contact', loopback: device }],
  };
}

test('a fixture transport registered in one line runs a device through config, binding, the agent and the pipeline', async () => {
  const { dir, cleanup } = tempDir();
  const profilesDir = join(dir, 'profiles');
  mkdirSync(join(profilesDir, 'test'), { recursive: true });
  writeFileSync(join(profilesDir, 'test', 'loop-contact.yaml'), PROFILE);
  const unregister = registerTransport(loopbackTransport);
  try {
    // Its block is part of the config schema: a typo in it is named like any other.
    assert.throws(() => resolveConfig(raw(join(dir, 'data'), profilesDir, { bus: 'loop0', chanel: 'a' }), 'edge.yaml', dir), (err: unknown) => err instanceof ConfigError && /unknown key devices\[0\]\.loopback\.chanel; did you mean channel\?$/.test(err.message));
    const config = resolveConfig(raw(join(dir, 'data'), profilesDir), 'edge.yaml', dir);
    assert.deepEqual(bindDevices(config, loadProfiles(profilesDir)).get('leak-1')?.profile.transport, 'loopback');
    const { logger } = captureLogger();
    const agent = await startAgent(config, { logger });
    try {
      const [driver] = drivers;
      assert.ok(driver, 'the agent created the fixture driver through the registry');
      await driver.send('a', 'c=1;lvl=40');
      assert.deepEqual(agent.outbox.pending(10).map((e) => [e.deviceId, e.alarmType, e.action, e.level]), [['leak-1', 'water_leak', 'raise', 3]]);
      await driver.send('a', 'c=0');
      assert.deepEqual(agent.outbox.pending(10).map((e) => e.action), ['raise', 'clear']);
    } finally {
      await agent.stop();
    }
  } finally {
    unregister();
    cleanup();
  }
  assert.equal(drivers.size, 0, 'the agent stopped the fixture driver');
});

test('without its registration line the transport is unknown to profiles and config', () => {
  const { dir, cleanup } = tempDir();
  try {
    const profilesDir = join(dir, 'profiles');
    mkdirSync(profilesDir, { recursive: true });
    writeFileSync(join(profilesDir, 'loop-contact.yaml'), PROFILE);
    assert.throws(() => loadProfiles(profilesDir), (err: unknown) => err instanceof ProfileError && /\/transport: Expected one of mqtt, modbus, serial$/.test(err.message));
    assert.throws(() => resolveConfig(raw(join(dir, 'data'), profilesDir), 'edge.yaml', dir), (err: unknown) => err instanceof ConfigError && /\/buses\/0\/kind: expected one of rtu, tcp, serial$/.test(err.message));
  } finally {
    cleanup();
  }
});

test('no module outside drivers/ (and firmware-profiles transports/) names a transport', () => {
  const root = join(import.meta.dirname, '..', '..');
  const files = [
    ...readdirSync(join(root, 'edge/src'), { recursive: true, encoding: 'utf8' }).map((f) => join('edge/src', f)),
    ...readdirSync(join(root, 'firmware-profiles/src'), { recursive: true, encoding: 'utf8' }).map((f) => join('firmware-profiles/src', f)),
  ].filter((f) => f.endsWith('.ts') && !f.startsWith('edge/src/drivers/') && !f.startsWith('firmware-profiles/src/transports/'));
  assert.ok(files.length > 20);
  const named = files.filter((f) =>
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .some((line) => !/^\s*import\b|from '/.test(line) && /['"`](mqtt|modbus|serial)['"`]/.test(line)),
  );
  assert.deepEqual(named, []);
});
