// The installer CLI against real peers: devices imported from a CSV into the edge config; `scan`
// of a simulated RS-485 line (socat pty, RTU timing) finds exactly the configured slave ids; `read`
// decodes a slave through the driver code; `test` drives a simulated smoke detector through a
// running agent to the cloud and back, reporting the routed community and unit and the round trip;
// `report` lists the device as passed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, PtyPair, RtuLineSim } from '@gridwatch/sim';
import { startCloud, type Cloud } from '@gridwatch/cloud';
import { spawnEdge, type EdgeProcess } from '../support/processes.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const fixture = (name: string): string => readFileSync(join(ROOT, 'cloud/test/fixtures', name), 'utf8');
const GW = { gatewayId: 'gw-cli-01', site: 'sz-futian', secret: 'cli-gateway-secret' };
const INSTALLER = { username: 'installer.wu', password: 'installer-pass', role: 'installer', jurisdictions: ['district:FT'] };
const SLAVES = [1, 2, 5];

let cloud: Cloud;
let pty: PtyPair;
let line: RtuLineSim;
let agent: EdgeProcess | null = null;
let dir: string;
let configFile: string;

interface Run {
  code: number;
  out: unknown;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), ...args, '--config', configFile, '--json'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let out: unknown = null;
      try {
        out = JSON.parse(stdout);
      } catch {
        out = stdout;
      }
      resolve({ code, out, stderr });
    });
  });
}

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false });
  await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.directory.importRulesCsv(fixture('rules.csv'));
  await cloud.directory.addUser(INSTALLER);
  await cloud.gateways.addGateway(GW);
  const smoke = loadProfiles().profiles.get('generic/smoke-modbus')!.profile as ModbusProfile;
  pty = new PtyPair();
  await pty.start();
  line = new RtuLineSim({ path: pty.b, baudRate: 9600, turnaroundMs: 5, devices: SLAVES.map((unitId) => new ModbusDeviceSim({ unitId, profile: smoke })) });
  await line.start();
  dir = mkdtempSync(join(tmpdir(), 'gridwatch-cli-'));
  configFile = join(dir, 'edge.yaml');
  writeFileSync(
    configFile,
    `# Commissioning test gateway\n${stringify({
      version: 1,
      gateway: { id: GW.gatewayId, site: GW.site },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: cloud.mqttUrl, password: GW.secret, resendAfterMs: 1000, reconnectPeriodMs: 200 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      buses: [{ id: 'rtu0', kind: 'rtu', path: pty.a, baudRate: 9600, timeoutMs: 150 }],
      devices: [],
    })}`,
  );
});

after(async () => {
  await agent?.kill();
  await line?.stop();
  await pty?.stop();
  await cloud?.stop();
});

test('devices from a CSV, a scan of the RTU line, a live read', { timeout: 60_000 }, async () => {
  const csv = join(dir, 'devices.csv');
  writeFileSync(
    csv,
    [
      'id,profile,address_id,bus,unit_id,poll_ms,mqtt_username,mqtt_password',
      'smoke-rtu-1,generic/smoke-modbus,FT-0001-0501,rtu0,1,1000,,',
      'smoke-rtu-2,generic/smoke-modbus,FT-0002-0101,rtu0,2,1000,,',
      'smoke-rtu-5,generic/smoke-modbus,FT-0002-0101,rtu0,5,1000,,',
      'smoke-lobby,generic/smoke-mqtt,FT-0001-0203,,,,smoke-lobby,lobby-detector-pw',
    ].join('\n'),
  );
  const imported = await cli('device', 'import', csv);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual((imported.out as { imported: string[] }).imported, ['smoke-rtu-1', 'smoke-rtu-2', 'smoke-rtu-5', 'smoke-lobby']);
  assert.match(readFileSync(configFile, 'utf8'), /^# Commissioning test gateway/, 'the file keeps its comments');
  const listed = await cli('device', 'list');
  assert.equal((listed.out as { devices: unknown[] }).devices.length, 4);

  const bad = await cli('device', 'add', '--id', 'x1', '--profile', 'generic/nope');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown profile generic\/nope[\s\S]*next: use one of/);

  const scan = await cli('scan', '--bus', 'rtu0', '--from', '1', '--to', '8', '--timeout-ms', '150');
  assert.equal(scan.code, 0, scan.stderr);
  const found = (scan.out as { found: { unitId: number; device: string | null }[]; missing: unknown[] }).found;
  assert.deepEqual(found.map((f) => f.unitId), SLAVES, 'exactly the configured slave ids');
  assert.deepEqual(found.map((f) => f.device), ['smoke-rtu-1', 'smoke-rtu-2', 'smoke-rtu-5']);

  const read = await cli('read', 'smoke-rtu-2');
  assert.equal(read.code, 0, read.stderr);
  const { values, units } = read.out as { values: Record<string, unknown>; units: Record<string, string> };
  assert.equal(values.smoke_alarm, false);
  assert.equal(typeof values.battery, 'number');
  assert.equal(units.battery, 'percent');
});

test('errors name the flag or the CSV column, with a next step', { timeout: 60_000 }, async () => {
  const flag = await cli('device', 'add', '--id', 'x2', '--profile', 'generic/smoke-modbus', '--bus', 'rtu0', '--unit-id', '300');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^gridwatch: --unit-id: 300 is outside 1–247\n {2}next: pass a number within 1–247 in --unit-id\n$/);
  const csv = join(dir, 'bad.csv');
  writeFileSync(csv, 'id,profile,bus,unit_id\nsmoke-9,generic/smoke-modbus,rtu0,x9\n');
  const column = await cli('device', 'import', csv);
  assert.equal(column.code, 2);
  assert.match(column.stderr, /bad\.csv line 2: column unit_id: expected a whole number, got "x9"\n {2}next: pass a whole number within 1–247 in column unit_id/);
  const scan = await cli('scan', '--bus', 'rtu0', '--from', '0');
  assert.equal(scan.code, 2);
  assert.match(scan.stderr, /--from: 0 is outside 1–247/);
});

test('one program name in every help text', { timeout: 60_000 }, async () => {
  const help = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), ...args, '--help'], { cwd: ROOT }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  const commands = [[], ['run'], ['check'], ['device'], ['device', 'add'], ['device', 'import'], ['scan'], ['read'], ['test'], ['report'], ['enroll']];
  for (const args of commands) {
    const text = await help(...args);
    assert.match(text, /^Usage: gridwatch /, args.join(' '));
    assert.doesNotMatch(text, /gridwatch-edge/, args.join(' '));
  }
});

test('`test` drives a simulated detector through the agent to the cloud; the report lists it as passed', { timeout: 60_000 }, async () => {
  agent = await spawnEdge(configFile);
  await agent.waitForLog((l) => l.msg === 'uplink connected' || l.msg === 'connected to cloud' || (typeof l.msg === 'string' && /connected/i.test(l.msg)), 15_000).catch(() => undefined);
  const run = await cli('test', 'smoke-lobby', '--simulate', '--cloud-url', cloud.httpUrl, '--user', INSTALLER.username, '--password', INSTALLER.password, '--timeout-s', '30');
  assert.equal(run.code, 0, run.stderr);
  const result = run.out as { passed: boolean; community: string; grid: string; unit: { id: string }; roundTripMs: number };
  assert.equal(result.passed, true);
  assert.equal(result.community, 'FT-C01');
  assert.equal(result.grid, 'FT-G01');
  assert.equal(result.unit.id, 'grid-g01');
  assert.ok(result.roundTripMs > 0 && result.roundTripMs < 30_000, `round trip ${result.roundTripMs} ms`);
  console.log(`# commissioning round trip ${result.roundTripMs} ms`);
  // A test report never becomes an incident.
  const incidents = await cloud.store.query('SELECT id FROM incidents WHERE device_id = $1', ['smoke-lobby']);
  assert.equal(incidents.length, 0);

  const prefix = join(dir, 'report');
  const report = await cli('report', '--out', prefix);
  assert.equal(report.code, 1, 'the Modbus detectors were not tested, so the report as a whole fails');
  const json = JSON.parse(readFileSync(`${prefix}.json`, 'utf8')) as { devices: { deviceId: string; result: string; roundTripMs: number | null; routedTo: { community: string } | null }[] };
  const lobby = json.devices.find((d) => d.deviceId === 'smoke-lobby')!;
  assert.equal(lobby.result, 'pass');
  assert.equal(lobby.routedTo?.community, 'FT-C01');
  assert.equal(json.devices.find((d) => d.deviceId === 'smoke-rtu-2')?.result, 'not tested');
  assert.match(readFileSync(`${prefix}.md`, 'utf8'), /\| smoke-lobby \| generic\/smoke-mqtt \|.*\| FT-C01 \/ grid-g01 \| PASS \|/);
  const zh = await cli('report', '--out', `${prefix}-zh`, '--lang', 'zh-CN');
  assert.equal(zh.code, 1);
  const md = readFileSync(`${prefix}-zh.md`, 'utf8');
  assert.match(md, /^# 调试报告 — 网关 gw-cli-01/);
  assert.match(md, /\| smoke-lobby \| generic\/smoke-mqtt \|.*\| FT-C01 \/ grid-g01 \| 通过 \|/);
  assert.match(md, /## smoke-rtu-2 — 未测试/);
  assert.doesNotMatch(md, /undefined/);
});
