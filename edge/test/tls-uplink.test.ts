// The uplink over TLS against a real Mosquitto: certificates made by `openssl` in a temporary
// folder (a CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA),
// a password file made with `mosquitto_passwd`, and an ACL that lets the gateway use only its own
// `gw/<site>/<id>/#` topics. Server verification is on by default: an agent that trusts another CA
// never connects, and says why. Skipped when mosquitto or openssl is not installed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeMessage, topicFor } from '@gridwatch/protocol';
import { resolveConfig, startAgent, type Agent } from '../src/index.ts';
import { captureLogger, eventually } from './helpers.ts';
import { freePort } from '../../test/support/ports.ts';

const hasTools = spawnSync('mosquitto', ['-h']).error === undefined && spawnSync('openssl', ['version']).error === undefined && spawnSync('mosquitto_passwd', ['-h']).error === undefined;
const GW = { gatewayId: 'gw-tls-01', site: 'tls-site', secret: 'tls-gateway-secret-01' };
const WATCHER = { username: 'watcher', password: 'watcher-secret-01' };

let dir: string;
let port: number;
let broker: ChildProcess | null = null;
let brokerLog = '';
const agents: Agent[] = [];
const clients: MqttClient[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA (self-signed, CA:true) under `name`.key/.pem. */
function makeCa(name: string, subject: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}


function tlsUrl(): string {
  return `mqtts://127.0.0.1:${port}`;
}

function gatewayConfig(name: string, cloud: Record<string, unknown>) {
  const dataDir = join(dir, name);
  return resolveConfig(
    {
      version: 1,
      gateway: { id: GW.gatewayId, site: GW.site },
      dataDir,
      logLevel: 'debug',
      cloud: { url: tlsUrl(), reconnectPeriodMs: 100, maxReconnectPeriodMs: 200, ...cloud },
      local: { mqttPort: 0, httpPort: 0 },
      outbox: { telemetry: false },
    },
    `${name}.yaml`,
    dir,
  );
}

async function metric(agent: Agent, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

before(async () => {
  if (!hasTools) return;
  dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  // Mosquitto started as root drops to its own user: it must be able to read these files.
  chmodSync(dir, 0o755);
  makeCa('ca', '/CN=GridWatch Test CA');
  makeCa('other-ca', '/CN=Somebody Else CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), GW.gatewayId, GW.secret], { stdio: 'ignore' });
  execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), WATCHER.username, WATCHER.password], { stdio: 'ignore' });
  // The same rule as the cloud's own ACL (cloud/src/broker/acl.ts): a gateway only under its topic.
  writeFileSync(join(dir, 'acl'), `user ${GW.gatewayId}\ntopic readwrite gw/${GW.site}/${GW.gatewayId}/#\n\nuser ${WATCHER.username}\ntopic read gw/#\n`);
  port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      '',
    ].join('\n'),
  );
  for (const file of ['ca.pem', 'other-ca.pem', 'server.pem', 'server.key', 'passwd', 'acl', 'mosquitto.conf']) chmodSync(join(dir, file), 0o644);
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  broker.stderr!.on('data', (chunk: Buffer) => (brokerLog += chunk.toString()));
  await eventually(
    `mosquitto listening on ${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      }),
    5000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; mosquitto said: ${brokerLog}`);
  });
});

after(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  for (const agent of agents) await agent.stop().catch(() => undefined);
  if (broker && broker.exitCode === null) {
    const exited = new Promise((resolve) => broker!.once('exit', resolve));
    broker.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const skip = !hasTools && 'mosquitto, mosquitto_passwd or openssl not installed';

test('an agent that trusts the broker CA connects over TLS and its retained online status is seen', { skip, timeout: 10_000 }, async () => {
  const config = gatewayConfig('good', { password: GW.secret, ca: join(dir, 'ca.pem') });
  assert.equal(config.cloud.rejectUnauthorized, true, 'server verification is on by default');
  const { logger } = captureLogger();
  const agent = await startAgent(config, { logger });
  agents.push(agent);
  await eventually('uplink connected', () => agent.health().uplink === 'connected', 5000);
  const health = (await (await fetch(`http://127.0.0.1:${agent.httpPort}/healthz`)).json()) as { uplink: string };
  assert.equal(health.uplink, 'connected');

  // A subscriber with the same TLS trust sees the gateway's retained online status.
  const watcher = await mqtt.connectAsync(tlsUrl(), { ...WATCHER, ca: readFileSync(join(dir, 'ca.pem')), reconnectPeriod: 0, connectTimeout: 3000 });
  clients.push(watcher);
  const statusTopic = topicFor(GW, 'status');
  const online = new Promise<string>((resolve) => {
    watcher.on('message', (topic, payload) => {
      if (topic !== statusTopic) return;
      const decoded = decodeMessage('status', payload);
      if (decoded.ok && decoded.value.state === 'online') resolve(decoded.value.gatewayId);
    });
  });
  await watcher.subscribeAsync(statusTopic, { qos: 1 });
  assert.equal(await online, GW.gatewayId);
  assert.equal(await metric(agent, 'gridwatch_edge_uplink_errors_total', 'kind="tls"'), 0);

  await agent.stop();
  agents.splice(agents.indexOf(agent), 1);
});

test('an agent given a different CA never connects (verification on by default) and logs and counts the TLS error', { skip, timeout: 10_000 }, async () => {
  const config = gatewayConfig('wrong-ca', { password: GW.secret, ca: join(dir, 'other-ca.pem') });
  const { logger, lines } = captureLogger();
  const agent = await startAgent(config, { logger });
  agents.push(agent);
  // Several attempts (back-off 100–200 ms), every one refused by the TLS handshake.
  await eventually('three TLS errors counted', async () => (await metric(agent, 'gridwatch_edge_uplink_errors_total', 'kind="tls"')) >= 3, 5000);
  const logged = lines.find((l) => l.msg === 'uplink TLS error: broker certificate not verified (check cloud.ca and the broker certificate)');
  assert.ok(logged, 'the TLS error is logged');
  assert.equal(logged.level, 50, 'at error level');
  assert.match(String(logged.code), /SELF_SIGNED|UNABLE_TO|CERT/);
  assert.equal(agent.health().uplink, 'disconnected');
  assert.equal(lines.filter((l) => l.msg === 'uplink connected').length, 0, 'never connected');
  assert.equal(await metric(agent, 'gridwatch_edge_uplink_connected', ''), 0);
  await agent.stop();
  agents.splice(agents.indexOf(agent), 1);
});

test('a wrong password is refused by the broker, logged and counted', { skip, timeout: 10_000 }, async () => {
  const config = gatewayConfig('wrong-password', { password: 'not-the-secret-01', ca: join(dir, 'ca.pem') });
  const { logger, lines } = captureLogger();
  const agent = await startAgent(config, { logger });
  agents.push(agent);
  await eventually('auth refusal counted', async () => (await metric(agent, 'gridwatch_edge_uplink_errors_total', 'kind="auth"')) >= 1, 5000);
  assert.ok(lines.some((l) => l.msg === 'uplink refused: bad credential (check cloud.password or enroll again)' && l.username === GW.gatewayId));
  assert.equal(await metric(agent, 'gridwatch_edge_uplink_errors_total', 'kind="tls"'), 0, 'the TLS handshake itself succeeded');
  assert.equal(agent.health().uplink, 'disconnected');
  assert.equal(lines.filter((l) => l.msg === 'uplink connected').length, 0);
  await agent.stop();
  agents.splice(agents.indexOf(agent), 1);
});
