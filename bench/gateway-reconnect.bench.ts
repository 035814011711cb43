// Reconnect storm (issues 11 and 12): N gateways (default 10,000), each with its own credential
// (keyed hashes written straight into PostgreSQL), open real MQTT connections to one cloud's
// embedded broker from a child process (bench/support/gateway-swarm.ts, 500 CONNECTs in flight).
// Meanwhile 10 gateways that were already connected send an alarm every 100 ms between them.
// Figures (measured):
//   connect_all_s        first CONNECT → last CONNACK of the storm          target <= 30 s
//   gateways_connected   CONNACK 0 received                                 target >= N
//   alarm_p99_ms_during  publish → the cloud's ack (committed in PostgreSQL)  for alarms sent
//                        during the storm; the issue sets no number, we hold it to <= 1000 ms
// All gateways come from 127.0.0.1, so the per-address pending limit is raised for the bench (in
// the field they come from many addresses). Needs PostgreSQL (GRIDWATCH_TEST_PG_URL) and
// `ulimit -n` above N + 1,000 (each side holds N sockets). Args: [gateways=10000].
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { MqttClient } from 'mqtt';
import { decodeMessage, encodeMessage, randomSecret, topicFor } from '@gridwatch/protocol';
import { startCloud } from '@gridwatch/cloud';
import { hashSecret, loadPepper } from '../cloud/src/gateways/secret.ts';
import { alarmEvent, connectGateway, createTempDatabase, eventsMessage } from '../cloud/test/helpers.ts';
import { percentile } from './report.ts';
import { atLeast, atMost, reportWithTargets } from './support/figures.ts';

const COUNT = Number(process.argv[2] ?? 10_000);
const ALARM_GATEWAYS = 10;
const SITE = 'sz-swarm';

const db = await createTempDatabase();
const cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', mqttMaxPendingPerAddress: COUNT + 1000, mqttConnectTimeoutMs: 60_000 });
const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-bench-swarm-'));

/** Credentials straight into the table, in batches (the registry would take minutes one by one). */
async function seedGateways(): Promise<{ gatewayId: string; secret: string }[]> {
  const pepper = await loadPepper(cloud.store, null);
  const credentials = Array.from({ length: COUNT }, (_, i) => ({ gatewayId: `gw-swarm-${String(i).padStart(5, '0')}`, secret: randomSecret() }));
  for (let i = 0; i < credentials.length; i += 1000) {
    const batch = credentials.slice(i, i + 1000);
    await cloud.store.query('INSERT INTO gateways (id, site, secret_hash) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [
      `{${batch.map((c) => c.gatewayId).join(',')}}`,
      `{${batch.map(() => SITE).join(',')}}`,
      `{${batch.map((c) => `"${hashSecret(c.secret, pepper)}"`).join(',')}}`,
    ]);
  }
  return credentials;
}

/** Alarms every 100 ms, round robin over the connected gateways; latency = publish → ack. */
function alarmLoop(clients: { gw: { gatewayId: string; site: string }; client: MqttClient }[]): { stop(): Promise<number[]> } {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  for (const { client } of clients) {
    client.on('message', (_topic, payload) => {
      const ack = decodeMessage('ack', payload);
      if (!ack.ok) return;
      for (const id of ack.value.eventIds) {
        const t = sentAt.get(id);
        if (t !== undefined) latencies.push(performance.now() - t);
        sentAt.delete(id);
      }
    });
  }
  let seq = 0;
  const timer = setInterval(() => {
    seq += 1;
    const { gw, client } = clients[seq % clients.length]!;
    const event = alarmEvent(gw.gatewayId, seq, { deviceId: `smoke-${seq}`, addressId: undefined, edgeTime: Date.now() });
    sentAt.set(event.id, performance.now());
    void client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, [event])), { qos: 1 });
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      const deadline = Date.now() + 30_000;
      while (sentAt.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (sentAt.size > 0) throw new Error(`${sentAt.size} alarms were never acked`);
      return latencies.sort((a, b) => a - b);
    },
  };
}

async function storm(credentialsFile: string): Promise<{ connected: number; refused: number; connectAllS: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./support/gateway-swarm.ts', import.meta.url).pathname, JSON.stringify({ port: cloud.mqttPort, credentialsFile, concurrency: 500 })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway swarm exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(line) as { connected: number; refused: number; connectAllS: number };
}

try {
  const credentials = await seedGateways();
  const credentialsFile = path.join(dir, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify(credentials));
  const alarmClients = [];
  for (let i = 0; i < ALARM_GATEWAYS; i += 1) {
    const gw = { gatewayId: `gw-alarm-${i}`, site: SITE, secret: randomSecret() };
    await cloud.gateways.addGateway(gw);
    const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
    await client.subscribeAsync(topicFor(gw, 'ack'), { qos: 1 });
    alarmClients.push({ gw, client });
  }
  const alarms = alarmLoop(alarmClients);
  const result = await storm(credentialsFile);
  const latencies = await alarms.stop();
  for (const { client } of alarmClients) await client.endAsync();
  console.error(`storm: ${result.connected} connected, ${result.refused} refused in ${result.connectAllS.toFixed(1)} s; ${latencies.length} alarms during it, p50 ${percentile(latencies, 50).toFixed(1)} ms`);
  reportWithTargets('gateway-reconnect', [
    atMost('connect_all_s', result.connectAllS, 's', 30),
    atLeast('gateways_connected', result.connected, 'gateways', COUNT),
    atMost('alarm_p99_ms_during', percentile(latencies, 99), 'ms', 1000),
  ]);
} finally {
  await cloud.stop();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
