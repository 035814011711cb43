// Shared pieces of the attack suite: a tally of attempts vs accepted per attack class (every case
// asserts 0 accepted and a non-zero number of attempts), raw MQTT packets, and a cloud spawned as a
// real child process when its memory or exit code is what is measured.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttLimits } from '@gridwatch/protocol';
import { pino } from 'pino';
import { EmbeddedBroker, type BrokerRules } from '../../cloud/src/broker/broker.ts';
import { GatewayChangeFeed } from '../../cloud/src/gateways/change-feed.ts';
import { GatewayRegistry } from '../../cloud/src/gateways/registry.ts';
import { CloudMetrics } from '../../cloud/src/metrics.ts';
import { openStore } from '../../cloud/src/store/open.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLOUD_MAIN = join(ROOT, 'cloud/src/main.ts');

export class Tally {
  private readonly counts = new Map<string, { attempts: number; accepted: number }>();

  record(attack: string, accepted: boolean): void {
    const c = this.counts.get(attack) ?? { attempts: 0, accepted: 0 };
    c.attempts += 1;
    if (accepted) c.accepted += 1;
    this.counts.set(attack, c);
  }

  /** Every attack class was tried at least once and none was accepted. */
  assertNoneAccepted(): void {
    assert.ok(this.counts.size > 0, 'no attack was attempted');
    for (const [attack, c] of this.counts) {
      assert.ok(c.attempts > 0, `${attack}: no attempts`);
      assert.equal(c.accepted, 0, `${attack}: ${c.accepted} of ${c.attempts} attempts accepted`);
    }
  }

  summary(): Record<string, { attempts: number; accepted: number }> {
    return Object.fromEntries(this.counts);
  }
}

/** Resolves true when the CONNECT is accepted (the client is ended again), false when refused. */
export async function tryConnect(url: string, options: IClientOptions): Promise<{ accepted: boolean; code?: number }> {
  try {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options }, false);
    await client.endAsync(true);
    return { accepted: true };
  } catch (err) {
    return { accepted: false, code: (err as { code?: number }).code };
  }
}

export function connectAs(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options }, false);
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** Fixed header of a CONNECT (type 1) announcing `remaining` bytes, MQTT 3.1.1 §2.2. */
export function connectHeader(remaining: number): Buffer {
  const bytes = [0x10];
  let n = remaining;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return Buffer.from(bytes);
}

export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

export function socketClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
  });
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error('no VmRSS');
  return Number(match[1]) * 1024;
}

export interface CloudChild {
  child: ChildProcess;
  httpUrl: string;
  mqttUrl: string;
  mqttPort: number;
  stop(): Promise<void>;
}

/** `gridwatch-cloud serve` as a child process; resolves on its 'cloud ready' line. */
export async function spawnCloud(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CloudChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLOUD_MAIN, 'serve', '--http-port', '0', '--mqtt-port', '0', '--log-level', 'info', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ httpUrl: string; mqttUrl: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cloud exited with ${code}: ${stderr.slice(-2000)}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; httpUrl?: string; mqttUrl?: string };
        if (entry.msg === 'cloud ready' && entry.httpUrl && entry.mqttUrl) resolve({ httpUrl: entry.httpUrl, mqttUrl: entry.mqttUrl });
      } catch {
        // not a log line
      }
    });
  });
  return {
    child,
    ...ready,
    mqttPort: Number(new URL(ready.mqttUrl).port),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One embedded broker on its own registry and store, for cases that switch a broker rule off. */
export interface BrokerRig {
  broker: EmbeddedBroker;
  registry: GatewayRegistry;
  url: string;
  stop(): Promise<void>;
}

export interface BrokerRigOptions {
  /** The broker's test seam (BrokerOptions.rules): a rule switched off for a planted regression. */
  rules?: Partial<BrokerRules>;
  /** PostgreSQL to share with another rig (replicas); absent = PGlite in memory. */
  databaseUrl?: string;
  /** Listen for gateway changes (revocation); false = the planted "no revocation" broker. */
  changes?: boolean;
  /** Pre-authentication limits (BrokerOptions.limits); a planted regression raises one out of reach. */
  limits?: Partial<MqttLimits>;
}

export async function startBrokerRig(options: BrokerRigOptions = {}): Promise<BrokerRig> {
  const log = pino({ level: 'silent' });
  const store = await openStore({ databaseUrl: options.databaseUrl ?? null, dataDir: 'memory://' }, log);
  const registry = new GatewayRegistry(store);
  await registry.prepare();
  const changes = options.changes === false ? null : new GatewayChangeFeed({ store, databaseUrl: options.databaseUrl ?? null, registry, log });
  await changes?.start();
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, registry, metrics: new CloudMetrics(), log, changes, limits: options.limits ?? {}, ...(options.rules ? { rules: options.rules } : {}) });
  await broker.start();
  return {
    broker,
    registry,
    url: `mqtt://127.0.0.1:${broker.port}`,
    stop: async () => {
      await broker.stop();
      await changes?.stop();
      await store.close();
    },
  };
}
