// A throw-away VictoriaMetrics (Debian's victoria-metrics) on a free port with its own data folder:
// a real server speaking the InfluxDB v2 write API (/api/v2/write), read back via /api/v1/export.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './helpers.ts';
import { freePort } from '../../test/support/ports.ts';

export const hasVictoriaMetrics = spawnSync('victoria-metrics', ['--version']).error === undefined;

export { freePort };

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics {
  private child: ChildProcess | null = null;
  private dir = '';
  url = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'gw-vm-'));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn('victoria-metrics', ['-storageDataPath', this.dir, '-httpListenAddr', `127.0.0.1:${port}`, '-retentionPeriod', '100y', '-loggerLevel', 'ERROR'], { stdio: 'ignore' });
    await waitFor('victoria-metrics ready', async () => ((await fetch(`${this.url}/health`).catch(() => null))?.ok ? true : undefined), 15_000);
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
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
