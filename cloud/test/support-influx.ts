// A throw-away InfluxDB 1.x (Debian's influxdb, 1.6: only the v1 /write API) on free ports with a
// temporary config and data folder; read back through InfluxQL on /query.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { freePort } from '../../test/support/ports.ts';
import { requireInstalled, stopChild } from './support-vm.ts';

export const hasInfluxd = spawnSync('influxd', ['version']).error === undefined;

export type InfluxValue = string | number | boolean | null;

/** Only what a test needs: loopback HTTP, no usage reporting, no self-monitoring database. */
function configText(dir: string, httpPort: number, rpcPort: number): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${path.join(dir, 'meta')}"`,
    '[data]',
    `  dir = "${path.join(dir, 'data')}"`,
    `  wal-dir = "${path.join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[logging]',
    '  level = "error"',
    '',
  ].join('\n');
}

export class Influx1 {
  private child: ChildProcess | null = null;
  private dir = '';
  url = '';

  async start(): Promise<void> {
    requireInstalled(hasInfluxd, 'influxd', 'influxdb');
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'gw-influx-'));
    const [httpPort, rpcPort] = [await freePort(), await freePort()];
    this.url = `http://127.0.0.1:${httpPort}`;
    const config = path.join(this.dir, 'influxdb.conf');
    await writeFile(config, configText(this.dir, httpPort, rpcPort));
    this.child = spawn('influxd', ['-config', config], { stdio: 'ignore' });
    await eventually('influxd ready', async () => (await fetch(`${this.url}/ping`)).status === 204, 20_000);
  }

  async query(q: string, db?: string): Promise<{ columns: string[]; values: InfluxValue[][] }[]> {
    const params = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
    const res = await fetch(`${this.url}/query`, { method: 'POST', body: params });
    const body = (await res.json()) as { results: { error?: string; series?: { columns: string[]; values: InfluxValue[][] }[] }[] };
    const result = body.results[0];
    if (result?.error) throw new Error(`InfluxQL: ${result.error}`);
    return result?.series ?? [];
  }

  async createDatabase(name: string): Promise<void> {
    await this.query(`CREATE DATABASE "${name}"`);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.child = null;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
