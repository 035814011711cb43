// Fault injection end to end: 30+ cycles of random SIGKILLs of the agent, Mosquitto restarts and
// link cuts while simulated gas detectors (real Modbus TCP) raise and clear alarms. At the end the
// cloud holds every event the gateway ever numbered exactly once: sequence numbers 1..max with no
// gap and no duplicate, every "event durable" the agents logged among them, and per device the
// raises and clears alternate (no alarm raised twice, no clear lost).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { startCloud, type Cloud } from '@gridwatch/cloud';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { edgeHealth, spawnEdge, type EdgeProcess } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/ports.ts';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;
const CYCLES = 30;
const DEVICES = 12;
const GW = { gatewayId: 'gw-fault', site: 'fault-site', secret: 'fault-secret-0001' };

let dir: string;
let brokerPort: number;
let broker: ChildProcess | null = null;
let cloud: Cloud;


async function startBroker(): Promise<void> {
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await eventually('mosquitto listening', async () => {
    const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0, connectTimeout: 500 }, false).catch(() => undefined);
    await probe?.endAsync();
    return probe ? true : undefined;
  }, 10_000);
}

async function stopBroker(): Promise<void> {
  const b = broker;
  broker = null;
  if (!b || b.exitCode !== null) return;
  const exited = new Promise((resolve) => b.once('exit', resolve));
  b.kill('SIGKILL');
  await exited;
}

before(async () => {
  if (!hasMosquitto) return;
  dir = mkdtempSync(join(tmpdir(), 'gw-fault-'));
  brokerPort = await freePort();
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  await startBroker();
  cloud = await startCloud({ httpPort: 0, dataDir: 'memory://', brokerUrl: `mqtt://127.0.0.1:${brokerPort}`, ingestUsername: 'ingest', logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
});

after(async () => {
  await cloud?.stop();
  await stopBroker();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`${CYCLES} cycles of SIGKILL, broker restarts and link cuts: every alarm in the cloud exactly once`, { skip: !hasMosquitto && 'mosquitto not installed', timeout: 120_000 }, async () => {
  const profile = loadProfiles().profiles.get('generic/gas-lel-modbus')!.profile as ModbusProfile;
  const sims = Array.from({ length: DEVICES }, (_, i) => new ModbusDeviceSim({ unitId: i + 1, profile }));
  for (const s of sims) s.set('gas_concentration', 0);
  const tcp = new ModbusTcpSim({ devices: sims });
  await tcp.start();
  const proxy = new TcpProxy('127.0.0.1', brokerPort);
  await proxy.start();
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(
    configFile,
    stringify({
      version: 1,
      gateway: { id: GW.gatewayId, site: GW.site },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: proxy.url, password: GW.secret, resendAfterMs: 1000, reconnectPeriodMs: 100, maxReconnectPeriodMs: 400 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: tcp.port, timeoutMs: 300 }],
      devices: sims.map((s) => ({ id: `gas-${s.unitId}`, profile: 'generic/gas-lel-modbus', modbus: { bus: 'tcp0', unitId: s.unitId, pollIntervalMs: 100 } })),
      outbox: { telemetryFlushMs: 200 },
    }),
  );
  const durable = new Set<string>();
  const agents: EdgeProcess[] = [];
  const spawnAgent = async () => {
    const edge = await spawnEdge(configFile);
    agents.push(edge);
    return edge;
  };
  let edge = await spawnAgent();
  const counts = { kill: 0, broker: 0, cut: 0 };
  let seed = 0x5eed;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const sim = sims[cycle % DEVICES]!;
      sim.set('gas_concentration', 60);
      sims[(cycle + DEVICES - 1) % DEVICES]!.set('gas_concentration', 0);
      await sleep(100 + random() * 400);
      const fault = (['kill', 'broker', 'cut'] as const)[cycle % 3]!;
      counts[fault] += 1;
      if (fault === 'kill') {
        await edge.kill('SIGKILL');
        edge = await spawnAgent();
      } else if (fault === 'broker') {
        await stopBroker();
        await sleep(random() * 300);
        await startBroker();
      } else {
        proxy.cut();
        await sleep(200 + random() * 400);
        proxy.restore();
      }
    }
    for (const s of sims) s.set('gas_concentration', 0);
    await eventually('the outbox to drain', async () => {
      const health = await edgeHealth(edge.httpPort);
      const cleared = edge.logs.filter((l) => l.msg === 'event durable' && l.action === 'clear').length;
      return health.uplink === 'connected' && health.outbox.pending === 0 && cleared > 0 ? true : undefined;
    }, 30_000);
    await sleep(500);
    await eventually('the final clears to be acked', async () => ((await edgeHealth(edge.httpPort)).outbox.pending === 0 ? true : undefined), 15_000);
    for (const a of agents) for (const l of a.logs) if (l.msg === 'event durable') durable.add(String(l.eventId));

    const rows = await cloud.store.query<{ event_id: string; seq: string | number; device_id: string; alarm_type: string; action: string }>(
      'SELECT event_id, seq, device_id, alarm_type, action FROM events WHERE gateway_id = $1 ORDER BY seq',
      [GW.gatewayId],
    );
    const seqs = rows.map((r) => Number(r.seq));
    const max = Math.max(...seqs);
    assert.deepEqual(seqs, Array.from({ length: max }, (_, i) => i + 1), 'the cloud holds every sequence number 1..max exactly once');
    for (const id of durable) assert.ok(rows.some((r) => r.event_id === id), `event ${id} logged durable by an agent is in the cloud`);
    const byAlarm = new Map<string, string[]>();
    for (const r of rows) byAlarm.set(`${r.device_id}/${r.alarm_type}`, [...(byAlarm.get(`${r.device_id}/${r.alarm_type}`) ?? []), r.action]);
    for (const [k, actions] of byAlarm) {
      actions.forEach((a, i) => assert.equal(a, i % 2 === 0 ? 'raise' : 'clear', `${k}: ${actions.join(',')}`));
    }
    const raises = rows.filter((r) => r.action === 'raise' && r.alarm_type === 'gas_high').length;
    assert.ok(raises >= CYCLES / 2, `${raises} gas alarms raised and held exactly once`);
    assert.ok(counts.kill >= 10 && counts.broker >= 10 && counts.cut >= 10);
    console.log(JSON.stringify({ cycles: CYCLES, faults: counts, events: rows.length, gasRaises: raises, durableLogged: durable.size }));
  } finally {
    for (const a of agents) await a.kill('SIGKILL');
    await proxy.stop();
    await tcp.stop();
  }
});
