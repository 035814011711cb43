// `npm run demo` must come up on free ports while 1883 and 8080 are taken (as on our machines), print
// a console URL that answers, and a trigger command that — run from another folder with npx —
// raises an incident routed by the demo district to a named unit with a deadline and its text
// address; a user added with `npx gridwatch-cloud user add` meanwhile logs in at once. The data
// persists across a restart; --fresh starts over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Listens on the port unless something already does; either way the port is taken afterwards. */
async function occupy(port: number): Promise<Server | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

async function portTaken(port: number): Promise<boolean> {
  const probe = await occupy(port);
  if (!probe) return true;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return false;
}

interface RunningDemo {
  consoleUrl: string;
  output: () => string;
  stop(): Promise<void>;
}

async function startDemo(dataDir: string, extra: string[] = []): Promise<RunningDemo> {
  const demo = spawn('npm', ['run', 'demo', '--', '--data-dir', dataDir, ...extra], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async (): Promise<void> => {
    if (demo.exitCode !== null || demo.signalCode !== null) return;
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    if (demo.pid) process.kill(-demo.pid, 'SIGTERM');
    const forceKill = setTimeout(() => demo.pid && process.kill(-demo.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(forceKill);
  };
  try {
    const consoleUrl = await eventually('the console URL in the demo output', () => /Console \(控制台\):\s+(http:\/\/\S+)/.exec(output)?.[1], 90_000);
    await eventually('the demo ready', () => output.includes('Press Ctrl+C to stop'), 10_000);
    return { consoleUrl, output: () => output, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- demo output ---\n${output}`);
  }
}

interface BoardIncident {
  id: number;
  deviceId: string;
  alarmType: string;
  status: string;
  unitId: string | null;
  unitName: string | null;
  addressText: string | null;
  placeName: string | null;
  raisedAt: number;
  deadlines?: { kind: string; dueAt: number }[];
}

async function incidents(consoleUrl: string): Promise<BoardIncident[]> {
  const body = (await (await fetch(new URL('/api/v1/incidents?deadlines=pending', consoleUrl))).json()) as { incidents: BoardIncident[] };
  return body.incidents;
}

test('npm run demo: the first alarm is routed to a named unit with a deadline and a text address; data persists; --fresh starts over', async () => {
  const held = [await occupy(1883), await occupy(8080)];
  assert.ok(await portTaken(1883), '1883 must be taken for this test');
  assert.ok(await portTaken(8080), '8080 must be taken for this test');
  const dataDir = mkdtempSync(join(tmpdir(), 'gridwatch-demo-'));
  let demo: RunningDemo | null = null;
  try {
    demo = await startDemo(dataDir);
    assert.doesNotMatch(demo.consoleUrl, /:8080\//);
    const page = await fetch(demo.consoleUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GridWatch/);

    const trigger = /npx (gridwatch-sim trigger smoke-1 --control \S+)/.exec(demo.output())?.[1];
    assert.ok(trigger, `the trigger command is printed:\n${demo.output()}`);
    // From another folder of the checkout, as a second terminal would.
    await promisify(execFile)('npx', ['--no', '--', ...trigger.split(' ')], { cwd: join(ROOT, 'docs') });
    const incident = await eventually('the triggered alarm routed to a unit', async () => (await incidents(demo!.consoleUrl)).find((i) => i.deviceId === 'smoke-1' && i.unitId !== null), 20_000);
    assert.equal(incident.alarmType, 'smoke');
    assert.equal(incident.status, 'dispatched');
    assert.equal(incident.unitName, '水贝第一网格 网格员刘明', 'routed to a named unit');
    assert.equal(incident.addressText, '罗湖区东晓街道水贝二路12号');
    assert.equal(incident.placeName, '老王拉面馆');
    const ack = incident.deadlines?.find((d) => d.kind === 'ack');
    assert.ok(ack, `an acknowledge deadline: ${JSON.stringify(incident.deadlines)}`);
    assert.equal(Math.round((ack.dueAt - incident.raisedAt) / 1000), 120, 'the district policy: level 1 acknowledged within 120 s');

    // A scripted situation: the Modbus smoke detector of 好邻居便利店 stops answering its polls.
    const control = trigger.split(' ').at(-1)!;
    const list = await promisify(execFile)('npx', ['--no', '--', 'gridwatch-sim', 'scenario', '--control', control], { cwd: join(ROOT, 'docs') });
    for (const name of ['correlated-fire', 'gas-leak', 'watch-sos', 'silent-detector', 'test-round']) assert.match(list.stdout, new RegExp(`^  ${name} `, 'm'));
    const played = await promisify(execFile)('npx', ['--no', '--', 'gridwatch-sim', 'scenario', 'silent-detector', '--control', control], { cwd: join(ROOT, 'docs') });
    assert.match(played.stdout, /smoke-4: silent/);
    const offline = await eventually('the silent detector as an incident', async () => (await incidents(demo!.consoleUrl)).find((i) => i.deviceId === 'smoke-4' && i.alarmType === 'device_offline'), 30_000);
    assert.equal(offline.unitName, '水贝第二网格 网格员黄丽');
    assert.equal(offline.placeName, '好邻居便利店');

    // A console user added from another terminal while the demo runs can log in at once.
    const userAdd = /npx (gridwatch-cloud user add .*)$/m.exec(demo.output())?.[1];
    assert.ok(userAdd, 'the user add command is printed');
    await promisify(execFile)('npx', ['--no', '--', ...userAdd.split(' ')], { cwd: join(ROOT, 'edge') });
    const login = await fetch(new URL('/api/v1/auth/login', demo.consoleUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'huang.li', password: 'gridwatch-demo' }) });
    assert.equal(login.status, 200, 'the new user logs in at once');

    await demo.stop();
    demo = await startDemo(dataDir);
    assert.match(demo.output(), /data kept from the last run/);
    const kept = await incidents(demo.consoleUrl);
    assert.ok(kept.some((i) => i.id === incident.id && i.unitName === incident.unitName), 'the incident survives a restart');

    await demo.stop();
    demo = await startDemo(dataDir, ['--fresh']);
    assert.deepEqual(await incidents(demo.consoleUrl), [], '--fresh starts over');
  } finally {
    await demo?.stop();
    for (const server of held) await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
