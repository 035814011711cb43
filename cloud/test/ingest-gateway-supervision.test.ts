// gateway_offline with a hold-off and flap suppression: a connection flap shorter than the hold-off
// opens nothing, an outage longer than it opens one incident, a gateway flapping while its incident
// is open keeps that one incident, and any message (telemetry too) is proof of life that closes it
// once the gateway has stayed back for the restore time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../src/index.ts';
import { connectGateway, eventually } from './helpers.ts';

const HOLD_OFF_S = 2;
const RESTORE_S = 1;
let cloud: Cloud;
const open: MqttClient[] = [];

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', tickMs: 100, gatewayOfflineHoldOffS: HOLD_OFF_S, gatewayRestoreS: RESTORE_S });
});

after(async () => {
  for (const c of open) await c.endAsync(true);
  await cloud.stop();
});

const status = (gatewayId: string, state: 'online' | 'offline'): string => encodeMessage('status', { v: 1, gatewayId, state, t: Date.now() });

/** Connects with a last will, says online, and returns a function that cuts the link (the broker sends the will). */
async function online(gw: { gatewayId: string; site: string; secret: string }): Promise<{ client: MqttClient; cut: () => void }> {
  const client = await mqtt.connectAsync(cloud.mqttUrl, {
    username: gw.gatewayId,
    password: gw.secret,
    // The broker binds a gateway's client id to its credential.
    clientId: gw.gatewayId,
    reconnectPeriod: 0,
    will: { topic: topicFor(gw, 'status'), payload: Buffer.from(status(gw.gatewayId, 'offline')), qos: 1, retain: true },
  }, false);
  open.push(client);
  await client.publishAsync(topicFor(gw, 'status'), status(gw.gatewayId, 'online'), { qos: 1, retain: true });
  return { client, cut: () => client.stream.destroy() };
}

async function gatewayState(id: string): Promise<string | undefined> {
  return (await cloud.store.query<{ status: string }>('SELECT status FROM gateways WHERE id = $1', [id]))[0]?.status;
}

async function offlineIncidents(id: string): Promise<{ id: string; open: boolean }[]> {
  return cloud.store.query("SELECT id, open FROM incidents WHERE gateway_id = $1 AND alarm_type = 'gateway_offline' ORDER BY id", [id]);
}

test('a flap shorter than the hold-off opens nothing; an outage longer than it opens one incident', { timeout: 60_000 }, async () => {
  const flapper = { gatewayId: 'gw-flap-01', site: 'sz-futian', secret: 'flap-secret-0001' };
  const gone = { gatewayId: 'gw-gone-01', site: 'sz-futian', secret: 'gone-secret-0001' };
  await cloud.gateways.addGateway(flapper);
  await cloud.gateways.addGateway(gone);
  const a = await online(flapper);
  const b = await online(gone);
  await eventually('both online', async () => (await gatewayState(flapper.gatewayId)) === 'online' && (await gatewayState(gone.gatewayId)) === 'online');

  a.cut();
  await eventually('the flapper offline (its will)', async () => (await gatewayState(flapper.gatewayId)) === 'offline');
  await online(flapper);
  await eventually('the flapper back', async () => (await gatewayState(flapper.gatewayId)) === 'online');

  const cutAt = Date.now();
  b.cut();
  const incident = await eventually('the outage incident', async () => (await offlineIncidents(gone.gatewayId))[0], 20_000);
  assert.ok(Date.now() - cutAt >= HOLD_OFF_S * 1000 - 200, `opened after ${Date.now() - cutAt} ms, the hold-off is ${HOLD_OFF_S} s`);
  assert.equal(incident.open, true);
  // The sweep that opened it looked at the flapper too: its flap, older than the outage, opened nothing.
  assert.deepEqual(await offlineIncidents(flapper.gatewayId), []);
});

test('while the incident is open a flapping link keeps it one incident; telemetry alone closes it after the restore time', { timeout: 60_000 }, async () => {
  const gw = { gatewayId: 'gw-flap-02', site: 'sz-futian', secret: 'flap-secret-0002' };
  await cloud.gateways.addGateway(gw);
  const first = await online(gw);
  await eventually('online', async () => (await gatewayState(gw.gatewayId)) === 'online');
  first.cut();
  const [incident] = await eventually('the incident', async () => {
    const rows = await offlineIncidents(gw.gatewayId);
    return rows.length > 0 ? rows : undefined;
  }, 20_000);
  // Three short returns, each shorter than the restore time, each followed by another loss.
  for (let i = 0; i < 3; i += 1) {
    const back = await online(gw);
    await eventually('back', async () => (await gatewayState(gw.gatewayId)) === 'online');
    back.cut();
    await eventually('offline again', async () => (await gatewayState(gw.gatewayId)) === 'offline');
  }
  assert.deepEqual(await offlineIncidents(gw.gatewayId), [{ id: incident!.id, open: true }], 'one incident, still open');

  // Proof of life by telemetry only (no status message): the incident closes once it has lasted.
  const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
  open.push(client);
  const backAt = Date.now();
  const telemetry = (n: number): string => encodeMessage('telemetry', { v: 1, gatewayId: gw.gatewayId, seq: n, sentAt: Date.now(), readings: [{ deviceId: 'gas-1', point: 'lel_percent', value: 3, t: Date.now() }] });
  await client.publishAsync(topicFor(gw, 'telemetry'), telemetry(1), { qos: 1 });
  const closed = await eventually('the incident closed', async () => {
    const rows = await offlineIncidents(gw.gatewayId);
    return rows[0] && !rows[0].open ? rows : undefined;
  }, 20_000);
  assert.ok(Date.now() - backAt >= RESTORE_S * 1000 - 200, 'not before the restore time');
  assert.equal(closed.length, 1);
  assert.equal(await gatewayState(gw.gatewayId), 'online');
  const status = await cloud.store.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [incident!.id]);
  assert.equal(status[0]?.status, 'cleared');
});
