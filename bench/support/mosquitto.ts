// Mosquitto for benches: /usr/sbin/mosquitto on a free loopback port, anonymous, no persistence,
// configured like test/soak/mosquitto.ts. Mosquitto PUBACKs a publisher on receipt, whatever its
// subscribers do: the queue towards a slow subscriber (`max_queued_messages`, then
// `max_queued_bytes`) is where a backlog waits, and its overflow is dropped and counted in
// `$SYS/broker/publish/messages/dropped`, which `dropped()` reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { eventually } from '../../test/support/eventually.ts';
import { freePort } from '../../test/support/ports.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export class BenchMosquitto {
  private child: ChildProcess | null = null;
  private dir = '';
  url = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-mosq-'));
    const port = await freePort();
    this.url = `mqtt://127.0.0.1:${port}`;
    const conf = path.join(this.dir, 'mosquitto.conf');
    await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nsys_interval 1\nlog_dest file ${path.join(this.dir, 'mosquitto.log')}\nlog_type error\nlog_type warning\nlog_type notice\n`);
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    this.child = child;
    await eventually('mosquitto listening', async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
      const probe = await mqtt.connectAsync(this.url, { reconnectPeriod: 0, connectTimeout: 500 }, false).catch(() => undefined);
      await probe?.endAsync();
      return probe ? true : undefined;
    }, 10_000);
  }

  /** Messages Mosquitto dropped (queue overflow), from its retained $SYS topic (published every second). */
  async dropped(): Promise<number> {
    const client = await mqtt.connectAsync(this.url, { reconnectPeriod: 0 }, false);
    try {
      const value = new Promise<number>((resolve) => client.on('message', (_t, payload) => resolve(Number(payload.toString()))));
      await client.subscribeAsync('$SYS/broker/publish/messages/dropped');
      return await Promise.race([value, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 10_000))]);
    } finally {
      await client.endAsync();
    }
  }

  /** What the broker logged about one client id prefix (connects, disconnects, time-outs). */
  logLines(clientIdPrefix: string): string[] {
    try {
      return readFileSync(path.join(this.dir, 'mosquitto.log'), 'utf8').split('\n').filter((l) => l.includes(clientIdPrefix));
    } catch {
      return [];
    }
  }

  /** Resident set size of the broker process, MB (VmHWM: its peak). */
  peakRssMb(): number {
    const pid = this.child?.pid;
    if (pid === undefined) return Number.NaN;
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
