// Test peers: a real aedes broker plus an mqtt.js client playing the cloud, and agent configs on
// ephemeral ports with a temporary data folder.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, type AckMessage, type EventsMessage, type StatusMessage } from '@gridwatch/protocol';
import { resolveConfig, type EdgeConfig } from '../src/index.ts';

// The one polling helper of every workspace's tests.
export { eventually } from '../../test/support/eventually.ts';

export interface TestCloud {
  url: string;
  events: EventsMessage[];
  statuses: StatusMessage[];
  ack(site: string, gatewayId: string, message: Omit<AckMessage, 'v' | 't'>): Promise<void>;
  publishRaw(topic: string, payload: string): Promise<void>;
  stop(): Promise<void>;
}

/** An aedes broker on an ephemeral loopback port; `stop` closes its sockets and the broker. */
export async function listenBroker(broker: Aedes): Promise<{ url: string; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** A plain aedes broker and one mqtt.js client acting as cloud ingest (it acks only when told). */
export async function startTestCloud(): Promise<TestCloud> {
  const listening = await listenBroker(await Aedes.createBroker());
  const url = listening.url;
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: 'test-cloud', reconnectPeriod: 0 });
  const events: EventsMessage[] = [];
  const statuses: StatusMessage[] = [];
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/events')) {
      const decoded = decodeMessage('events', payload);
      if (!decoded.ok) throw new Error(decoded.error);
      events.push(decoded.value);
    } else if (topic.endsWith('/status')) {
      const decoded = decodeMessage('status', payload);
      if (!decoded.ok) throw new Error(decoded.error);
      statuses.push(decoded.value);
    }
  });
  await client.subscribeAsync(['gw/+/+/events', 'gw/+/+/status'], { qos: 1 });
  return {
    url,
    events,
    statuses,
    async ack(site, gatewayId, message) {
      await client.publishAsync(`gw/${site}/${gatewayId}/ack`, encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), ...message }), { qos: 1 });
    },
    async publishRaw(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
    async stop() {
      await client.endAsync();
      await listening.stop();
    },
  };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-edge-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const DEVICE = { id: 'smoke-1', username: 'smoke-1', password: 's3cret-smoke-1' };

export function agentConfig(dataDir: string, cloudUrl: string): EdgeConfig {
  return resolveConfig(
    {
      version: 1,
      gateway: { id: 'gw-01', site: 'futian' },
      dataDir,
      logLevel: 'debug',
      cloud: { url: cloudUrl, password: 'gw-01-password', resendAfterMs: 300, reconnectPeriodMs: 200 },
      local: { mqttPort: 0, httpPort: 0 },
      devices: [
        { id: DEVICE.id, profile: 'generic/smoke-mqtt', addressId: 'addr-440304-0001', mqtt: { username: DEVICE.username, password: DEVICE.password } },
        { id: 'smoke-2', profile: 'generic/smoke-mqtt', mqtt: { username: 'smoke-2', password: 'other-password' } },
      ],
    },
    'test-config',
    dataDir,
  );
}

/** A pino logger whose JSON lines are kept for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export async function connectDevice(port: number, username: string, password: string, clientId = username): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, username, password, reconnectPeriod: 0 });
}
