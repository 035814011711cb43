// `npm run demo`: the cloud (embedded broker, PGlite, console), one edge agent and simulated smoke
// detectors, all in this process on free ports, so it runs beside whatever holds 1883 and 8080.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { startCloud, UserError } from '@gridwatch/cloud';
import { loadConfig, startAgent } from '@gridwatch/edge';
import { SimControlServer, SmokeDetectorSim } from '@gridwatch/sim';

const GATEWAY = { gatewayId: 'gw-demo-01', site: 'futian-demo' };
const DEVICES = [
  { id: 'smoke-1', addressId: 'FT-LH-0001-0101', note: 'noodle shop, ground floor' },
  { id: 'smoke-2', addressId: 'FT-LH-0001-0102', note: 'hardware store, ground floor' },
];

const program = new Command('npm run demo --')
  .description('Start a GridWatch cloud, an edge agent and simulated smoke detectors on free ports')
  .option('--data-dir <dir>', 'where the demo keeps its databases (wiped at start)', resolve(import.meta.dirname, '..', 'data', 'demo'))
  .option('--http-port <port>', 'console/API port (0 = any free port)', '0')
  .option('--log-level <level>', 'log level of cloud and edge', 'warn')
  .parse();
const opts = program.opts<{ dataDir: string; httpPort: string; logLevel: 'warn' | 'info' | 'debug' | 'error' }>();

const DEFAULT_DATA_DIR = resolve(import.meta.dirname, '..', 'data', 'demo');
const dataDir = resolve(opts.dataDir);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });

console.log('Starting GridWatch demo (the embedded database takes a few seconds)…');
const cloud = await startCloud({
  httpHost: '127.0.0.1',
  httpPort: Number(opts.httpPort),
  mqttHost: '127.0.0.1',
  mqttPort: 0,
  dataDir: join(dataDir, 'cloud'),
  logLevel: opts.logLevel,
});
const secret = randomBytes(18).toString('base64url');
await cloud.gateways.addGateway({ ...GATEWAY, secret });
// A console login that sees every jurisdiction (the demo's devices are not in an address book).
const DEMO_USER = { username: 'demo', password: 'gridwatch-demo', role: 'dispatcher', jurisdictions: ['*'], displayName: '演示调度员' };
await cloud.directory.addUser(DEMO_USER).catch((err: unknown) => {
  if (!(err instanceof UserError)) throw err; // kept from an earlier run in the same data folder
});

const deviceSecrets = new Map(DEVICES.map((d) => [d.id, randomBytes(12).toString('base64url')]));
const edgeConfigFile = join(dataDir, 'edge.yaml');
writeFileSync(
  edgeConfigFile,
  stringify({
    version: 1,
    gateway: { id: GATEWAY.gatewayId, site: GATEWAY.site },
    dataDir: './edge',
    logLevel: opts.logLevel,
    cloud: { url: cloud.mqttUrl, password: secret, resendAfterMs: 5000, reconnectPeriodMs: 1000 },
    local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
    devices: DEVICES.map((d) => ({
      id: d.id,
      profile: 'generic/smoke-mqtt',
      addressId: d.addressId,
      mqtt: { username: d.id, password: deviceSecrets.get(d.id)! },
    })),
  }),
);
const agent = await startAgent(loadConfig(edgeConfigFile));

const sims = DEVICES.map(
  (d) =>
    new SmokeDetectorSim({
      brokerUrl: `mqtt://127.0.0.1:${agent.localMqttPort}`,
      deviceId: d.id,
      username: d.id,
      password: deviceSecrets.get(d.id)!,
      heartbeatMs: 30_000,
    }),
);
for (const sim of sims) await sim.start();
const control = new SimControlServer(sims);
await control.start();

const consoleUrl = `${cloud.httpUrl}/`;
// The trigger command finds the default demo by its runtime file; another data dir needs the URL.
const controlFlag = dataDir === DEFAULT_DATA_DIR ? '' : ` --control ${control.url}`;
writeFileSync(
  join(dataDir, 'runtime.json'),
  `${JSON.stringify({ consoleUrl, apiUrl: `${cloud.httpUrl}/api/v1/incidents`, cloudMqttUrl: cloud.mqttUrl, edgeLocalMqttPort: agent.localMqttPort, edgeHttpPort: agent.httpPort, simControlUrl: control.url }, null, 2)}\n`,
);

console.log(`
GridWatch demo is running.

  Console (控制台):   ${consoleUrl}
  Console login:      ${DEMO_USER.username} / ${DEMO_USER.password}
  Incidents API:      ${cloud.httpUrl}/api/v1/incidents
  Cloud MQTT broker:  ${cloud.mqttUrl}   (gateway ${GATEWAY.gatewayId}, site ${GATEWAY.site})
  Edge agent:         local device broker mqtt://127.0.0.1:${agent.localMqttPort}, health http://127.0.0.1:${agent.httpPort}/healthz
  Simulated devices:  ${DEVICES.map((d) => `${d.id} (${d.note})`).join(', ')}

Make a detector alarm, then clear it (in another terminal):
  npm run sim -- trigger smoke-1${controlFlag}
  npm run sim -- trigger smoke-1 clear${controlFlag}

Press Ctrl+C to stop.
`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('Stopping…');
  await control.stop();
  await Promise.all(sims.map((s) => s.stop()));
  await agent.stop();
  await cloud.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
