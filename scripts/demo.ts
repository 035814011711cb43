// `npm run demo`: a demo district — the cloud (embedded broker, PGlite, console) loaded with a
// sample street of two communities (demo/district/*.csv: text addresses, place names, grids, named
// units, routing rules, the acknowledgement policy) and one edge agent with devices of several
// classes over MQTT, Modbus TCP and (where socat exists) Modbus RTU on a pty, all in this process
// on free ports. Data persists across restarts in --data-dir; --fresh starts over.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { placeDevice, startCloud, type Cloud } from '@gridwatch/cloud';
import { loadConfig, startAgent, type Agent } from '@gridwatch/edge';
import { DemoControl } from '../demo/src/control.ts';
import { deviceRows, HAS_SOCAT, ModbusSide, smokeDevice, watchDevice, type DemoDevice, type DeviceRow } from '../demo/src/devices.ts';
import { csvRows, loadDistrict, policy, users } from '../demo/src/district.ts';
import { DEMO_SCENARIOS } from '../demo/src/scenarios.ts';
import { loadState, type DemoState } from '../demo/src/state.ts';

const GATEWAY = { gatewayId: 'gw-demo-01', site: 'lh-dongxiao' };
const DEFAULT_DATA_DIR = resolve(import.meta.dirname, '..', 'data', 'demo');

const opts = new Command('npm run demo --')
  .description('Start a GridWatch demo district: cloud, address book, units, routing rules, an edge and simulated devices on free ports')
  .option('--data-dir <dir>', 'where the demo keeps its databases (kept across restarts)', DEFAULT_DATA_DIR)
  .option('--fresh', 'delete the data folder first and start over', false)
  .option('--http-port <port>', 'console/API port (0 = any free port)', '0')
  .option('--log-level <level>', 'log level of cloud and edge', 'warn')
  .parse()
  .opts<{ dataDir: string; fresh: boolean; httpPort: string; logLevel: 'warn' | 'info' | 'debug' | 'error' }>();

const dataDir = resolve(opts.dataDir);
if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const rows = deviceRows();
const { state, fresh } = loadState(dataDir, rows.map((r) => r.id));

/** Registers the demo gateway once; a data folder without its secret file gets a new secret. */
async function ensureGateway(cloud: Cloud, demo: DemoState, firstStart: boolean): Promise<void> {
  if (!(await cloud.gateways.lookup(GATEWAY.gatewayId))) await cloud.gateways.addGateway({ ...GATEWAY, secret: demo.gatewaySecret });
  else if (firstStart) demo.gatewaySecret = (await cloud.gateways.rotate(GATEWAY.gatewayId)).secret;
  // The cloud owns placement (issue 11): the admin places each device, which allows its community.
  await cloud.store.transaction(async (tx) => {
    for (const row of rows) await placeDevice(tx, GATEWAY.gatewayId, row.id, row.addressId);
  });
}

function edgeDevice(row: DeviceRow): Record<string, unknown> {
  const base = { id: row.id, profile: row.profile, addressId: row.addressId };
  if (row.transport === 'mqtt') return { ...base, mqtt: { username: row.id, password: state.deviceSecrets[row.id]! } };
  return { ...base, modbus: { bus: row.transport === 'modbus-tcp' ? 'tcp0' : 'rtu0', unitId: row.unitId!, pollIntervalMs: 1000 } };
}

async function startEdge(cloud: Cloud, modbus: ModbusSide): Promise<Agent> {
  const file = join(dataDir, 'edge.yaml');
  const wanted = rows.filter((r) => r.transport === 'mqtt' || modbus.devices.some((d) => d.row.id === r.id));
  writeFileSync(
    file,
    stringify({
      version: 1,
      gateway: { id: GATEWAY.gatewayId, site: GATEWAY.site },
      dataDir: './edge',
      logLevel: opts.logLevel,
      cloud: { url: cloud.mqttUrl, password: state.gatewaySecret, resendAfterMs: 5000, reconnectPeriodMs: 1000 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      buses: modbus.buses(),
      devices: wanted.map(edgeDevice),
    }),
  );
  return startAgent(loadConfig(file));
}

async function startMqttDevices(agent: Agent): Promise<(DemoDevice & { start(): Promise<void>; stop(): Promise<void> })[]> {
  const brokerUrl = `mqtt://127.0.0.1:${agent.localMqttPort}`;
  const places = new Map(csvRows('addresses.csv').map((a) => [a.address_id!, { lat: Number(a.lat), lon: Number(a.lon) }]));
  const devices = rows
    .filter((r) => r.transport === 'mqtt')
    .map((r) => {
      const login = { brokerUrl, password: state.deviceSecrets[r.id]! };
      return r.profile === 'generic/smartwatch-mqtt' ? watchDevice(r, login, places.get(r.addressId) ?? { lat: 0, lon: 0 }) : smokeDevice(r, login);
    });
  for (const d of devices) await d.start();
  return devices;
}

console.log(`Starting the GridWatch demo district (${fresh ? 'new data folder' : 'data kept from the last run'}; the embedded database takes a few seconds)…`);
const cloud = await startCloud({ httpHost: '127.0.0.1', httpPort: Number(opts.httpPort), mqttHost: '127.0.0.1', mqttPort: 0, dataDir: join(dataDir, 'cloud'), logLevel: opts.logLevel, ...policy() });
const district = await loadDistrict(cloud);
await ensureGateway(cloud, state, fresh);
writeFileSync(join(dataDir, 'demo-state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
const modbus = new ModbusSide(rows);
await modbus.start();
const agent = await startEdge(cloud, modbus);
const mqttDevices = await startMqttDevices(agent);
const control = new DemoControl([...mqttDevices, ...modbus.devices]);
await control.start();

const consoleUrl = `${cloud.httpUrl}/`;
// The sim CLI finds the default demo by its runtime file; another data dir needs the URL.
const controlFlag = dataDir === DEFAULT_DATA_DIR ? '' : ` --control ${control.url}`;
writeFileSync(
  join(dataDir, 'runtime.json'),
  `${JSON.stringify({ consoleUrl, apiUrl: `${cloud.httpUrl}/api/v1/incidents`, cloudMqttUrl: cloud.mqttUrl, edgeLocalMqttPort: agent.localMqttPort, edgeHttpPort: agent.httpPort, simControlUrl: control.url }, null, 2)}\n`,
);
const running = [...mqttDevices, ...modbus.devices].map((d) => `    ${d.row.id.padEnd(11)} ${d.row.className} (${d.row.transport}) — ${d.row.note}`);
const login = users()[0]!;

console.log(`
GridWatch demo district is running: 罗湖区东晓街道 (水贝社区, 独树社区) — ${district.addresses} addresses, ${district.units} units, ${district.rules} routing rules.

  Console (控制台):   ${consoleUrl}
  Console login:      ${login.username} / ${login.password} (all areas); grid worker liu.ming / ${login.password} (水贝第一网格)
  Incidents API:      ${cloud.httpUrl}/api/v1/incidents
  Cloud MQTT broker:  ${cloud.mqttUrl}   (gateway ${GATEWAY.gatewayId}, site ${GATEWAY.site})
  Edge agent:         local device broker mqtt://127.0.0.1:${agent.localMqttPort}, health http://127.0.0.1:${agent.httpPort}/healthz
  Devices${HAS_SOCAT ? '' : ' (no socat: the Modbus RTU devices are left out)'}:
${running.join('\n')}

Make a detector alarm, then clear it (in another terminal):
  npx gridwatch-sim trigger smoke-1${controlFlag}
  npx gridwatch-sim trigger smoke-1 clear${controlFlag}
Add a console user while the demo runs (it can log in at once):
  npx gridwatch-cloud user add --data-dir ${join(dataDir, 'cloud')} --username huang.li --password gridwatch-demo --role grid_worker --jurisdiction grid:LH-DX-G02 --display-name 黄丽
Scripted situations: npx gridwatch-sim scenario <name>${controlFlag}
${Object.entries(DEMO_SCENARIOS).map(([name, s]) => `  ${name.padEnd(16)} ${s.title}`).join('\n')}

Data is kept in ${dataDir} (npm run demo -- --fresh starts over). Press Ctrl+C to stop.
`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('Stopping…');
  await control.stop();
  await Promise.all(mqttDevices.map((d) => d.stop().catch(() => undefined)));
  await agent.stop();
  await modbus.stop();
  await cloud.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
