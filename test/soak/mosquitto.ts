// Our own Mosquitto on a free loopback port (anonymous, no persistence, like the e2e fault test),
// restartable on the same port so the edges and the cloud reconnect to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { until } from './wait.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export class Mosquitto {
  readonly port: number;
  private readonly configFile: string;
  private child: ChildProcess | null = null;

  constructor(dir: string, port: number) {
    this.port = port;
    this.configFile = join(dir, 'mosquitto.conf');
    writeFileSync(this.configFile, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.configFile], { stdio: 'ignore' });
    this.child = child;
    await until(
      'mosquitto listening',
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
        const probe = await mqtt.connectAsync(this.url, { reconnectPeriod: 0, connectTimeout: 500 }, false).catch(() => undefined);
        await probe?.endAsync();
        return probe ? true : undefined;
      },
      10_000,
    );
  }

  /** SIGKILL: the broker vanishes without closing anything cleanly. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
