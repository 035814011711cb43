// Scale-out: two cloud processes, one Mosquitto (MQTT v5 shared subscription $share/ingest/…), one
// PostgreSQL. One process is SIGKILLed mid-stream. The gateway behaves like the edge: it resends
// whatever has not been acked. Asserted: every event is exactly one incident, every due deadline
// escalates exactly once, and socket.io fans incidents from both processes out to one client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import { decodeMessage, encodeMessage, topicFor } from '@gridwatch/protocol';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import type { Incident } from '../src/incidents/incident.ts';
import { importAddressesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { alarmEvent, createTempDatabase, delay, eventsMessage, eventually, type TempDatabase } from './helpers.ts';
import { freePort } from './support-vm.ts';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const GW = { gatewayId: 'gw-scale-01', site: 'sz-futian', secret: 'scale-out-secret-1' };
const EVENTS = 200;
const ADDRESSED = ['FT-0001-0203', 'FT-0002-0101', 'FT-0003-0101', 'FT-0004-0101', 'FT-0005-0101', 'FT-0006-0101'];
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

interface CloudProcess {
  child: ChildProcess;
  httpUrl: string;
}

let db: TempDatabase;
let store: Store;
let dir: string;
let broker: ChildProcess;
let brokerUrl: string;
const processes: CloudProcess[] = [];

async function spawnCloud(name: string): Promise<CloudProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--http-port', '0', '--database-url', db.url, '--broker-url', brokerUrl, '--ingest-username', `ingest-${name}`,
      '--ingest-share-group', 'ingest', '--deadlines', '{"3":{"ackS":1}}', '--tick-ms', '100', '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const httpUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cloud ${name} exited with ${code}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; httpUrl?: string };
      if (entry.msg === 'cloud ready' && entry.httpUrl) resolve(entry.httpUrl);
    });
  });
  const proc = { child, httpUrl };
  processes.push(proc);
  return proc;
}

before(async () => {
  if (!hasMosquitto) return;
  db = await createTempDatabase();
  store = await openStore({ databaseUrl: db.url, dataDir: 'memory://' }, pino({ level: 'silent' }));
  await store.transaction((tx) => importAddressesCsv(tx, fixture('addresses.csv')));
  await store.transaction((tx) => importUnitsCsv(tx, fixture('units.csv')));
  await new GatewayRegistry(store).addGateway(GW);
  dir = await mkdtemp(path.join(os.tmpdir(), 'gw-scale-'));
  const port = await freePort();
  await writeFile(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
  broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  brokerUrl = `mqtt://127.0.0.1:${port}`;
  await eventually('mosquitto listening', async () => {
    const probe = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 }, false).catch(() => undefined);
    await probe?.endAsync();
    return probe ? true : undefined;
  });
});

after(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await store?.close();
  broker?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
  await db?.drop();
});

test('two processes, one SIGKILLed mid-stream: each event exactly one incident, each due deadline escalates once', { skip: !hasMosquitto && 'mosquitto not installed', timeout: 120_000 }, async () => {
  const [a, b] = await Promise.all([spawnCloud('a'), spawnCloud('b')]);
  const socket: Socket = ioClient(b!.httpUrl, { transports: ['websocket'], forceNew: true });
  const seen = new Set<number>();
  socket.on('incident', (incident: Incident) => seen.add(incident.id));
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));

  const gateway: MqttClient = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 500, clientId: 'gw-scale-01-edge' }, false);
  const acked = new Set<string>();
  gateway.on('message', (_t, payload) => {
    const ack = decodeMessage('ack', payload);
    if (ack.ok) for (const id of ack.value.eventIds) acked.add(id);
  });
  await gateway.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
  const events = Array.from({ length: EVENTS }, (_, i) =>
    alarmEvent(GW.gatewayId, i + 1, { deviceId: `det-${i}`, level: 3, addressId: i < ADDRESSED.length ? ADDRESSED[i] : undefined, edgeTime: Date.now() }),
  );
  const send = async (batch: typeof events): Promise<void> => {
    for (const e of batch) await gateway.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [e])), { qos: 1 });
  };
  await send(events.slice(0, EVENTS / 2));
  a!.child.kill('SIGKILL');
  await send(events.slice(EVENTS / 2));
  // The edge's contract: resend until acked.
  await eventually(
    'every event acked',
    async () => {
      if (acked.size === EVENTS) return true;
      await send(events.filter((e) => !acked.has(e.id)));
      await delay(1000);
      return undefined;
    },
    60_000,
  );

  const perEvent = await store.query<{ event_id: string; incident_id: string | null }>('SELECT event_id, incident_id FROM events WHERE gateway_id = $1', [GW.gatewayId]);
  assert.equal(perEvent.length, EVENTS, 'each event stored once');
  assert.ok(perEvent.every((e) => e.incident_id !== null));
  assert.equal(new Set(perEvent.map((e) => e.incident_id)).size, EVENTS, 'each event its own incident');
  const incidents = await store.query<{ n: number; occ: number }>('SELECT count(*)::int AS n, sum(occurrences)::int AS occ FROM incidents WHERE gateway_id = $1', [GW.gatewayId]);
  assert.deepEqual(incidents[0], { n: EVENTS, occ: EVENTS }, 'no replay counted twice');

  // Addressed incidents climb grid → community → street → district, then miss once more at the top:
  // 4 deadline firings each, each exactly once, whichever process claimed them.
  await eventually(
    'every due deadline fired',
    async () => {
      const rows = await store.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deadlines d JOIN incidents i ON i.id = d.incident_id
         WHERE i.gateway_id = $1 AND d.fired_at IS NOT NULL`,
        [GW.gatewayId],
      );
      return rows[0]?.n === ADDRESSED.length * 4 ? true : undefined;
    },
    30_000,
  );
  await delay(500);
  const unfired = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at < now() - interval '1 second'");
  assert.equal(unfired[0]?.n, 0, 'nothing due is left unfired');
  const audit = await store.query<{ n: number; d: number }>("SELECT count(*)::int AS n, count(DISTINCT deadline_id)::int AS d FROM incident_audit WHERE source = 'deadline'");
  assert.deepEqual(audit[0], { n: ADDRESSED.length * 4, d: ADDRESSED.length * 4 }, 'one escalation row per fired deadline');
  const ladder = await store.query<{ escalations: number; unit_id: string }>('SELECT escalations, unit_id FROM incidents WHERE gateway_id = $1 AND address_id IS NOT NULL', [GW.gatewayId]);
  assert.equal(ladder.length, ADDRESSED.length);
  assert.ok(ladder.every((l) => l.escalations === 3 && l.unit_id === 'district-ft'), JSON.stringify(ladder));

  const all = await store.query<{ id: string }>('SELECT id FROM incidents WHERE gateway_id = $1', [GW.gatewayId]);
  const missing = all.filter((r) => !seen.has(Number(r.id)));
  // Incidents committed by the killed process before its death reached B's client through the adapter;
  // only those committed in its last instant (emit lost with the process) may be missing.
  assert.ok(missing.length <= 2, `socket.io on B saw incidents from both processes (missing ${missing.length})`);
  socket.close();
  await gateway.endAsync();
  b!.child.kill('SIGTERM');
});
