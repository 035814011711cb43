// The cloud as a real child process on PostgreSQL and the external broker, so the soak can SIGKILL
// it. Its structured log lines go to a file for the post-mortem.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'cloud/src/main.ts');

export interface CloudOptions {
  databaseUrl: string;
  brokerUrl: string;
  logFile: string;
}

export class CloudProcess {
  private readonly options: CloudOptions;
  private child: ChildProcess | null = null;
  /** Processes started so far (restarts included). */
  starts = 0;

  constructor(options: CloudOptions) {
    this.options = options;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const { databaseUrl, brokerUrl, logFile } = this.options;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'serve', '--http-port', '0', '--database-url', databaseUrl, '--broker-url', brokerUrl, '--ingest-username', 'ingest', '--log-level', 'info'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.starts += 1;
    const start = this.starts;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
      appendFileSync(logFile, `{"cloudStart":${start},"stderr":${JSON.stringify(chunk.toString())}}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cloud not ready within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`cloud exited (${code ?? signal}) before it was ready; stderr: ${stderr}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        appendFileSync(logFile, `${line}\n`);
        if (line.includes('"cloud ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
