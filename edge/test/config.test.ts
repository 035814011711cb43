// Config validation names the file and JSON path; the CLI starts, prints `edge ready`, and stops
// cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '@gridwatch/firmware-profiles';
import { ConfigError, bindDevices, loadConfig } from '../src/index.ts';
import { startTestCloud, tempDir } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

const base = `version: 1
gateway: { id: gw-01, site: futian }
dataDir: ./data
cloud: { url: "mqtt://127.0.0.1:1", password: pw }
devices:
  - id: smoke-1
    profile: generic/smoke-mqtt
    mqtt: { username: smoke-1, password: pw1 }
`;

function write(dir: string, text: string, name = 'edge.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('defaults are applied and paths resolved against the config file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = loadConfig(write(dir, base));
    assert.equal(config.dataDir, join(dir, 'data'));
    assert.equal(config.profilesDir, BUNDLED_PROFILES_DIR);
    assert.equal(config.cloud.username, 'gw-01');
    assert.equal(config.cloud.rejectUnauthorized, true);
    assert.deepEqual(config.local, { host: '127.0.0.1', mqttPort: 1884, httpPort: 0 });
    const json = loadConfig(write(dir, JSON.stringify({ version: 1, gateway: { id: 'g', site: 's' }, dataDir: 'd', cloud: { url: 'mqtts://x', password: 'p' } }), 'edge.json'));
    assert.deepEqual(json.devices, []);
  } finally {
    cleanup();
  }
});

test('errors name the file, the path and what was expected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const cases: Array<[string, RegExp]> = [
      [base.replace('site: futian', 'site: futian, zone: 1'), /edge\.yaml: \/gateway\/zone: unknown key gateway\.zone; valid keys here: id, site$/],
      [base.replace('mqtt://127.0.0.1:1', 'http://x'), /edge\.yaml: \/cloud\/url: Expected string to match/],
      [base.replace('version: 1', 'version: 2'), /edge\.yaml: \/version: unsupported config version 2/],
      [base + '  - id: smoke-1\n    profile: generic/smoke-mqtt\n    mqtt: { username: other, password: p }\n', /edge\.yaml: \/devices\/1\/id: duplicate id smoke-1$/],
      [base.replace('password: pw }', 'password: pw, ca: missing.pem }'), /edge\.yaml: \/cloud\/ca: cannot read CA file/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => loadConfig(write(dir, text)), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    }
  } finally {
    cleanup();
  }
});

test('a device whose profile does not exist is a start-up error naming the device and path', () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = loadConfig(write(dir, base.replace('profile: generic/smoke-mqtt', 'profile: generic/smoke-mqqt')));
    assert.throws(
      () => bindDevices(config, loadProfiles()),
      /edge\.yaml: \/devices\/0\/profile: device smoke-1: unknown profile generic\/smoke-mqqt; did you mean generic\/smoke-mqtt\?$/,
    );
  } finally {
    cleanup();
  }
});

test('the CLI logs one `edge ready` line, writes runtime.json and exits 0 on SIGTERM', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  try {
    const file = write(dir, base.replace('mqtt://127.0.0.1:1', cloud.url) + 'local: { mqttPort: 0 }\n');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const line = stdout.split('\n').find((l) => l.includes('"edge ready"'));
        if (line) resolve(JSON.parse(line) as Record<string, unknown>);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stdout}`)));
    });
    const line = await ready;
    assert.equal(line.gatewayId, 'gw-01');
    assert.ok(typeof line.localMqttPort === 'number' && line.localMqttPort > 0);
    const runtime = JSON.parse(readFileSync(join(dir, 'data', 'runtime.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([runtime.localMqttPort, runtime.httpPort], [line.localMqttPort, line.httpPort]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `exit code after SIGTERM; output:\n${stdout}\n${stderr}`);
    assert.equal(stdout.split('\n').filter((l) => l.includes('"edge ready"')).length, 1);
  } finally {
    await cloud.stop();
    cleanup();
  }
});

test('`check` refuses a bad config with exit code 2, the error in words and a next step that exists', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = write(dir, base.replace('profile: generic/smoke-mqtt', 'profle: generic/smoke-mqtt'));
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'check', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `gridwatch: ${file}: /devices/0/profle: unknown key devices[0].profle; did you mean profile?\n  next: fix the value at the path named above, then run: gridwatch check -c ${file}\n`,
    );
  } finally {
    cleanup();
  }
});

const installation = `version: 1
gateway: { id: gw-01, site: futian }
dataDir: ./data
cloud: { url: "mqtt://127.0.0.1:1", password: pw }
buses:
  - { id: rtu0, kind: rtu, path: /dev/ttyUSB0, baudRate: 9600, parity: none }
  - { id: tcp0, kind: tcp, host: 192.168.1.20, port: 502 }
  - { id: door0, kind: serial, path: /dev/ttyS1 }
devices:
  - id: smoke-1
    profile: generic/smoke-mqtt
    mqtt: { username: smoke-1, password: pw1 }
  - id: gas-1
    profile: generic/gas-lel-modbus
    addressId: FT-LH-0001-0101
    modbus: { bus: rtu0, unitId: 3, pollIntervalMs: 500 }
  - id: meter-1
    profile: generic/water-meter-modbus
    modbus: { bus: tcp0, unitId: 7 }
  - id: door-1
    profile: generic/door-access-serial
    serial: { bus: door0 }
`;

test('an installation file with buses binds Modbus and serial devices', () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = loadConfig(write(dir, installation));
    assert.deepEqual(
      config.buses.map((b) => `${b.id}:${b.kind}`),
      ['rtu0:rtu', 'tcp0:tcp', 'door0:serial'],
    );
    const devices = bindDevices(config, loadProfiles());
    assert.deepEqual([...devices.keys()], ['smoke-1', 'gas-1', 'meter-1', 'door-1']);
  } finally {
    cleanup();
  }
});

test('installation errors name the file, the path and what was expected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const load: Array<[string, RegExp]> = [
      [installation.replace('kind: rtu,', 'kind: rs485,'), /edge\.yaml: \/buses\/0\/kind: expected one of rtu, tcp, serial$/],
      [installation.replace('baudRate: 9600', 'baudRate: 9600, baud: 1'), /edge\.yaml: \/buses\/0\/baud: unknown key buses\[0\]\.baud; did you mean baudRate\?$/],
      [installation.replace('port: 502', 'port: "502"'), /edge\.yaml: \/buses\/1\/port: Expected integer$/],
      [installation.replace('id: tcp0', 'id: rtu0'), /edge\.yaml: \/buses\/1\/id: duplicate bus id rtu0$/],
      [installation.replace('unitId: 3', 'unitId: 300'), /edge\.yaml: \/devices\/1\/modbus\/unitId: 300 is outside 1–247$/],
    ];
    for (const [text, message] of load) {
      assert.throws(() => loadConfig(write(dir, text)), (err: unknown) => err instanceof ConfigError && message.test(err.message), String(message));
    }
    const bind: Array<[string, RegExp]> = [
      [installation.replace('bus: rtu0', 'bus: rtu9'), /edge\.yaml: \/devices\/1\/modbus\/bus: device gas-1: unknown bus rtu9 \(declared: rtu0, tcp0, door0\)$/],
      [installation.replace('serial: { bus: door0 }', 'serial: { bus: rtu0 }'), /\/devices\/3\/serial\/bus: device door-1: bus rtu0 is rtu, expected serial$/],
      [installation.replace('unitId: 7', 'unitId: 3').replace('bus: tcp0', 'bus: rtu0'), /\/devices\/2\/modbus: device meter-1: unit 3 on rtu0 is already gas-1$/],
      [installation.replace('profile: generic/gas-lel-modbus', 'profile: generic/smoke-mqtt'), /\/devices\/1\/modbus: device gas-1: profile generic\/smoke-mqtt uses transport mqtt, so the device needs exactly one `mqtt` block, not modbus$/],
    ];
    for (const [text, message] of bind) {
      const config = loadConfig(write(dir, text));
      assert.throws(() => bindDevices(config, loadProfiles()), (err: unknown) => err instanceof ConfigError && message.test(err.message), String(message));
    }
  } finally {
    cleanup();
  }
});
