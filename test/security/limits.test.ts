// Attack: pre-authentication resource use and password guessing on the MQTT brokers.
// - 4 sockets each announce a 200 MiB CONNECT and keep sending: each is closed at once and the
//   cloud process's RSS stays within a few MB (measured on a real `gridwatch-cloud serve` child).
// - A socket that never sends CONNECT is closed after the CONNECT timeout.
// - More unauthenticated sockets from one address than allowed are closed at once.
// - Guessing gateway secrets: after the failure budget the address is backed off, so even the
//   right secret is refused until the back-off ends (no guess is accepted).
// The same limits guard the edge's local broker (one module, protocol/src/mqtt-limits.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { GatewayRegistry } from '../../cloud/src/gateways/registry.ts';
import { openStore } from '../../cloud/src/store/open.ts';
import { createTempDatabase, type TempDatabase } from '../../cloud/test/helpers.ts';
import { startAgent } from '../../edge/src/index.ts';
import { agentConfig, captureLogger, DEVICE, startTestCloud, tempDir } from '../../edge/test/helpers.ts';
import { Tally, connectHeader, rawSocket, rssBytes, socketClosed, spawnCloud, tryConnect, type CloudChild } from './support.ts';

const MiB = 1024 * 1024;
const GW = { gatewayId: 'gw-limits-01', site: 'site-l', secret: 'limits-secret-0001' };
let cloud: CloudChild;
let db: TempDatabase;

before(async () => {
  db = await createTempDatabase();
  const store = await openStore({ databaseUrl: db.url, dataDir: 'memory://' }, pino({ level: 'silent' }));
  await new GatewayRegistry(store).addGateway(GW);
  await store.close();
  cloud = await spawnCloud(['--database-url', db.url, '--mqtt-connect-timeout-ms', '500', '--mqtt-max-pending-per-address', '8', '--mqtt-failures-before-backoff', '5', '--mqtt-backoff-base-ms', '60000']);
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
});

/** Announces a `announced`-byte CONNECT and streams up to `sendBytes` of it; true when the server kept reading. */
async function announce(port: number, announced: number, sendBytes: number): Promise<{ keptOpenMs: number; sent: number }> {
  const socket = await rawSocket(port);
  const started = Date.now();
  const done = socketClosed(socket);
  socket.on('error', () => undefined);
  let sent = 0;
  socket.write(connectHeader(announced));
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  while (sent < sendBytes && !socket.destroyed) {
    if (!socket.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 5));
    sent += chunk.length;
  }
  await done;
  return { keptOpenMs: Date.now() - started, sent };
}

test('four 200 MiB CONNECT announcements are closed at once; the cloud’s memory stays flat', async () => {
  const pid = cloud.child.pid as number;
  const tally = new Tally();
  const before = rssBytes(pid);
  const results = await Promise.all([1, 2, 3, 4].map(() => announce(cloud.mqttPort, 200 * MiB, 32 * MiB)));
  const after = rssBytes(pid);
  for (const r of results) tally.record('oversized CONNECT read', r.keptOpenMs > 2000);
  tally.assertNoneAccepted();
  assert.ok(after - before < 8 * MiB, `RSS grew by ${((after - before) / MiB).toFixed(1)} MiB`);
});

test('a socket without CONNECT is closed after the CONNECT timeout', async () => {
  const socket = await rawSocket(cloud.mqttPort);
  const started = Date.now();
  await socketClosed(socket);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 400 && elapsed < 5000, `closed after ${elapsed} ms (timeout 500 ms)`);
});

test('more unauthenticated sockets per address than allowed are closed at once', async () => {
  const held = await Promise.all(Array.from({ length: 8 }, () => rawSocket(cloud.mqttPort)));
  const tally = new Tally();
  for (let i = 0; i < 4; i += 1) {
    const extra = await rawSocket(cloud.mqttPort);
    const started = Date.now();
    await socketClosed(extra);
    tally.record('socket beyond the pending limit kept', Date.now() - started > 300);
  }
  for (const socket of held) socket.destroy();
  tally.assertNoneAccepted();
});

test('guessing a gateway secret: no guess is accepted and the address is backed off, even for the right secret', async () => {
  const tally = new Tally();
  const codes: (number | undefined)[] = [];
  for (let i = 0; i < 20; i += 1) {
    const result = await tryConnect(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: `guess-${i}-wrong-secret` });
    tally.record('guessed secret', result.accepted);
    codes.push(result.code);
  }
  assert.deepEqual(codes.slice(0, 5), [4, 4, 4, 4, 4], 'bad username or password');
  assert.ok(codes.slice(5).every((c) => c === 3), `backed off (server unavailable): ${codes.join(',')}`);
  const right = await tryConnect(cloud.mqttUrl, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret });
  tally.record('right secret during back-off', right.accepted);
  assert.equal(right.code, 3);
  tally.assertNoneAccepted();
});

test('edge local broker: oversized CONNECT closed at once; device password guessing backed off', async () => {
  const upstream = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const agent = await startAgent(agentConfig(join(dir, 'data'), upstream.url), { logger: captureLogger().logger });
  const tally = new Tally();
  try {
    const r = await announce(agent.localMqttPort, 200 * MiB, 8 * MiB);
    tally.record('oversized CONNECT read', r.keptOpenMs > 2000);
    const url = `mqtt://127.0.0.1:${agent.localMqttPort}`;
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 12; i += 1) {
      const result = await tryConnect(url, { clientId: DEVICE.id, username: DEVICE.username, password: `wrong-${i}` });
      tally.record('guessed device password', result.accepted);
      codes.push(result.code);
    }
    const right = await tryConnect(url, { clientId: DEVICE.id, username: DEVICE.username, password: DEVICE.password });
    tally.record('right password during back-off', right.accepted);
    assert.equal(right.code, 3, `codes ${codes.join(',')}`);
  } finally {
    await agent.stop();
    await upstream.stop();
    cleanup();
  }
  tally.assertNoneAccepted();
});

test('planted regression: without the failure back-off (budget 1,000,000) the right secret is accepted after 20 guesses', async () => {
  const { startBrokerRig } = await import('./support.ts');
  const rig = await startBrokerRig({ limits: { failuresBeforeBackoff: 1_000_000 } });
  try {
    await rig.registry.addGateway(GW);
    const tally = new Tally();
    for (let i = 0; i < 20; i += 1) tally.record('guessed secret', (await tryConnect(rig.url, { clientId: GW.gatewayId, username: GW.gatewayId, password: `guess-${i}-wrong-secret` })).accepted);
    tally.record('right secret during back-off', (await tryConnect(rig.url, { clientId: GW.gatewayId, username: GW.gatewayId, password: GW.secret })).accepted);
    assert.throws(() => tally.assertNoneAccepted(), /right secret during back-off: 1 of 1 attempts accepted/);
  } finally {
    await rig.stop();
  }
});

test('planted regression: without the pre-auth packet limit a 200 MiB CONNECT is read on; without the pending limit extra sockets stay', async () => {
  const { startBrokerRig } = await import('./support.ts');
  // The MQTT varint's largest Remaining Length: no CONNECT is ever over this limit.
  const rig = await startBrokerRig({ limits: { preAuthPacketBytes: 268_435_455, maxPendingPerAddress: 1_000_000, connectTimeoutMs: 60_000 } });
  const port = Number(new URL(rig.url).port);
  const tally = new Tally();
  try {
    const socket = await rawSocket(port);
    socket.on('error', () => undefined);
    socket.write(connectHeader(200 * MiB));
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let stalled = false;
    for (let sent = 0; sent < 8 * MiB && !socket.destroyed && !stalled; sent += chunk.length) {
      if (socket.write(chunk)) continue;
      // A broker that stopped reading never drains: then it is not buffering the body.
      stalled = !(await Promise.race([new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000))]));
    }
    // Every byte was taken (drained) and the socket is still open: the broker is buffering the body.
    tally.record('oversized CONNECT read', !socket.destroyed && !stalled);
    socket.destroy();
    const held = await Promise.all(Array.from({ length: 12 }, () => rawSocket(port)));
    const extra = await rawSocket(port);
    const closedSoon = await Promise.race([socketClosed(extra).then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))]);
    tally.record('socket beyond the pending limit kept', !closedSoon);
    for (const s of [...held, extra]) s.destroy();
  } finally {
    await rig.stop();
  }
  const summary = tally.summary();
  assert.equal(summary['oversized CONNECT read']?.accepted, 1, JSON.stringify(summary));
  assert.equal(summary['socket beyond the pending limit kept']?.accepted, 1, JSON.stringify(summary));
});
