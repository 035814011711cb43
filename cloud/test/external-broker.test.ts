// The same ingest code path against a real external broker (Mosquitto), the production shape.
// Skipped when mosquitto is not installed. ACL on an external broker is that broker's config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { decodeMessage, encodeMessage, topicFor } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, eventsMessage, nextMessage, eventually } from './helpers.ts';
import { freePort } from '../../test/support/ports.ts';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;
const GW = { gatewayId: 'gw-ext-01', site: 'sz-luohu', secret: 'external-secret-1' };

let dir: string;
let broker: ChildProcess;
let cloud: Cloud;
let url: string;


before(async () => {
  if (!hasMosquitto) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'gw-mosq-'));
  const port = await freePort();
  await writeFile(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
  broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  url = `mqtt://127.0.0.1:${port}`;
  await eventually('mosquitto listening', async () => {
    const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0 }, false).catch(() => undefined);
    await probe?.endAsync();
    return probe ? true : undefined;
  });
  cloud = await startCloud({ httpPort: 0, dataDir: 'memory://', brokerUrl: url, ingestUsername: 'ingest', logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
});

after(async () => {
  await cloud?.stop();
  broker?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('ingest through Mosquitto stores the event and acks it', { skip: !hasMosquitto && 'mosquitto not installed' }, async () => {
  assert.equal(cloud.mqttPort, null);
  assert.equal(cloud.mqttUrl, url);
  const gateway = await mqtt.connectAsync(url, { reconnectPeriod: 0 }, false);
  await gateway.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
  const ack = nextMessage(gateway);
  await gateway.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [alarmEvent(GW.gatewayId, 7)])), { qos: 1 });
  const decoded = decodeMessage('ack', (await ack)[1]);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value.eventIds, ['gw-ext-01:7']);
  const rows = await cloud.store.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
  assert.equal(rows[0]?.n, 1);
  await gateway.endAsync();
});
