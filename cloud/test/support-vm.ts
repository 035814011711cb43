// A throw-away VictoriaMetrics (Debian's victoria-metrics) on a free port with its own data folder:
// a real server speaking both InfluxDB write APIs (/api/v2/write and /write?db=), read back via
// /api/v1/export.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { freePort } from '../../test/support/ports.ts';

export const hasVictoriaMetrics = spawnSync('victoria-metrics', ['--version']).error === undefined;

export { freePort };

/**
 * The `skip` option for a test that needs an external server: a reason on a developer machine
 * without it, but never in CI (CI=true), where a missing server must fail the run, not hide it.
 */
export function skipWithout(installed: boolean, server: string): string | false {
  if (installed) return false;
  return process.env.CI === 'true' ? false : `${server} not installed`;
}

/** Throws the reason a server cannot start (called where the server is needed, so CI fails there). */
export function requireInstalled(installed: boolean, server: string, debianPackage: string): void {
  if (!installed) throw new Error(`${server} is not installed (apt-get install ${debianPackage}); CI requires it`);
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Stops a spawned server and waits for it to exit. */
export async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export class VictoriaMetrics {
  private child: ChildProcess | null = null;
  private dir = '';
  url = '';

  async start(): Promise<void> {
    requireInstalled(hasVictoriaMetrics, 'victoria-metrics', 'victoria-metrics');
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'gw-vm-'));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn('victoria-metrics', ['-storageDataPath', this.dir, '-httpListenAddr', `127.0.0.1:${port}`, '-retentionPeriod', '100y', '-loggerLevel', 'ERROR'], { stdio: 'ignore' });
    await eventually('victoria-metrics ready', async () => (await fetch(`${this.url}/health`)).ok, 15_000);
  }

  /** Every series matching `selector`, after making recent writes searchable. */
  async export(selector: string): Promise<ExportedSeries[]> {
    await fetch(`${this.url}/internal/force_flush`);
    const res = await fetch(`${this.url}/api/v1/export?${new URLSearchParams({ 'match[]': selector })}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ExportedSeries);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.child = null;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
