// Runs the edge agent as a real child process, as on a gateway, so tests can SIGKILL it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface EdgeProcess {
  child: ChildProcess;
  localMqttPort: number;
  httpPort: number;
  /** Every structured log line the agent printed so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line matching, including lines already printed. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnEdge(configFile: string, timeoutMs = 20_000): Promise<EdgeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), 'run', '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<{ predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (const waiter of waiters) {
      if (waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitForLog = (predicate: (l: Record<string, unknown>) => boolean, ms = timeoutMs) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const waiter = { predicate, resolve: (l: Record<string, unknown>) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`edge agent did not log the expected line within ${ms} ms; stderr: ${stderr.slice(-2000)}`));
      }, ms);
      waiters.add(waiter);
      void exited.then(() => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`edge agent exited (code ${child.exitCode}) before logging the expected line; stderr: ${stderr.slice(-2000)}`));
      });
    });
  };

  const ready = await waitForLog((l) => l.msg === 'edge ready');
  return {
    child,
    localMqttPort: Number(ready.localMqttPort),
    httpPort: Number(ready.httpPort),
    logs,
    waitForLog,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface EdgeHealth {
  status: string;
  uplink: 'connected' | 'disconnected';
  outbox: { pending: number };
}

export async function edgeHealth(httpPort: number): Promise<EdgeHealth> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
  return (await response.json()) as EdgeHealth;
}
