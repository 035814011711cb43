// `npm run demo` must come up on free ports while 1883 and 8080 are taken (as on our machines), print
// a console URL that answers, and a trigger command that really raises an incident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/processes.ts';

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

test('npm run demo serves the console while 1883 and 8080 are occupied, and its trigger command raises an incident', async () => {
  const held = [await occupy(1883), await occupy(8080)];
  assert.ok(await portTaken(1883), '1883 must be taken for this test');
  assert.ok(await portTaken(8080), '8080 must be taken for this test');
  const dataDir = mkdtempSync(join(tmpdir(), 'gridwatch-demo-'));
  const demo = spawn('npm', ['run', 'demo', '--', '--data-dir', dataDir], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (output += c.toString()));
  try {
    const consoleUrl = await eventually(() => /Console \(控制台\):\s+(http:\/\/\S+)/.exec(output)?.[1], 60_000, `the console URL in the demo output:\n${output}`);
    assert.doesNotMatch(consoleUrl, /:8080\//);
    const page = await fetch(consoleUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GridWatch/);

    const trigger = await eventually(() => /(npm run sim -- trigger smoke-1 --control \S+)/.exec(output)?.[1], 5_000, 'the trigger command');
    const [, ...args] = trigger.split(' ');
    await promisify(execFile)('npm', args, { cwd: ROOT });
    const apiUrl = new URL('/api/v1/incidents', consoleUrl);
    const incident = await eventually(async () => {
      const body = (await (await fetch(apiUrl)).json()) as { incidents: { deviceId: string; alarmType: string }[] };
      return body.incidents.find((i) => i.deviceId === 'smoke-1');
    }, 15_000, 'the triggered alarm as an incident');
    assert.equal(incident.alarmType, 'smoke');
  } finally {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    if (demo.pid) process.kill(-demo.pid, 'SIGTERM');
    const forceKill = setTimeout(() => demo.pid && process.kill(-demo.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(forceKill);
    for (const server of held) await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
