// A virtual serial cable: socat joins two pseudo-terminals (`pty,raw,echo=0,link=…`), so a
// simulator opens one end and the gateway (or mbpoll) the other, exactly as with /dev/ttyUSB0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PtyPair {
  /** The end the gateway or a client opens. */
  readonly a: string;
  /** The end the simulator opens. */
  readonly b: string;
  private readonly dir: string;
  private child: ChildProcess | null = null;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'gw-pty-'));
    this.a = join(this.dir, 'a');
    this.b = join(this.dir, 'b');
  }

  async start(): Promise<void> {
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot run socat (apt-get install socat): ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`socat exited ${code}`)));
    });
    const ready = (async () => {
      for (let i = 0; i < 200 && !(existsSync(this.a) && existsSync(this.b)); i++) await new Promise((r) => setTimeout(r, 10));
      if (!existsSync(this.a) || !existsSync(this.b)) throw new Error('socat did not create the pty links');
    })();
    await Promise.race([ready, failed]);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
