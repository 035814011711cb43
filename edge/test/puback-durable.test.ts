// A device's report is acknowledged only once its events are durable. The edge runs as a real
// child process with 40 MQTT smartwatches on its local broker. Each round, 8 of them publish an
// alarm (QoS 1) at the same instant and the edge is SIGKILLed the moment the first PUBACK reaches
// a device — 20 rounds, each agent start a fresh process on the same data folder. Afterwards the
// SQLite file must hold an event for every report any device got a PUBACK for: 0 lost. (Before
// PUBACK waited for the commit, 3 of 6 acknowledged alarm changes were lost.) Every report raises
// an alarm no earlier round touched, so each acknowledged report must have produced exactly one
// event, whatever happened to the others, and no alarm repeats often enough to count as
// chattering (ISA-18.2 suppression would rightly swallow it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import type { AlarmEvent } from '@gridwatch/protocol';
import { freePort } from '../../test/support/ports.ts';
import { spawnEdge } from '../../test/support/processes.ts';
import { connectDevice } from './helpers.ts';

const ROUNDS = 20;
const PER_ROUND = 8;
const DEVICES = Array.from({ length: 40 }, (_, i) => ({ id: `watch-${i}`, username: `watch-${i}`, password: `pw-watch-${i}` }));
/** Four alarms of generic/smartwatch-mqtt: the report that raises each, and the alarm type. */
const ALARMS: Array<[Record<string, unknown>, string]> = [
  [{ sos: true }, 'sos'],
  [{ fall: true }, 'fall'],
  [{ geofence: { exit: true } }, 'geofence_exit'],
  [{ worn: false }, 'not_worn'],
];

function storedRaises(dbFile: string): Set<string> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT body FROM outbox_events ORDER BY seq').all() as Array<{ body: string }>;
    return new Set(rows.map((r) => JSON.parse(r.body) as AlarmEvent).filter((e) => e.action === 'raise').map((e) => `${e.deviceId} ${e.alarmType}`));
  } finally {
    db.close();
  }
}

function writeConfig(dir: string, cloudPort: number): string {
  const file = join(dir, 'edge.yaml');
  writeFileSync(
    file,
    stringify({
      version: 1,
      gateway: { id: 'gw-durable', site: 'futian' },
      dataDir: './data',
      logLevel: 'info',
      // The cloud is unreachable, so every event stays in the outbox where the test can count it.
      cloud: { url: `mqtt://127.0.0.1:${cloudPort}`, password: 'pw', reconnectPeriodMs: 60_000 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      devices: DEVICES.map((d) => ({ id: d.id, profile: 'generic/smartwatch-mqtt', mqtt: { username: d.username, password: d.password } })),
    }),
  );
  return file;
}

/** One round: returns the `device alarmType` of every report a device got a PUBACK for. */
async function round(configFile: string, index: number): Promise<string[]> {
  const edge = await spawnEdge(configFile);
  const clients: MqttClient[] = [];
  const acknowledged: string[] = [];
  try {
    const reports = Array.from({ length: PER_ROUND }, (_, i) => {
      const slot = index * PER_ROUND + i;
      const device = DEVICES[slot % DEVICES.length]!;
      const [payload, alarmType] = ALARMS[Math.floor(slot / DEVICES.length)]!;
      return { device, payload, alarmType };
    });
    for (const { device } of reports) clients.push(await connectDevice(edge.localMqttPort, device.username, device.password, device.id));
    // The agent's death resets the sockets; that is the point, not an error.
    for (const c of clients) c.on('error', () => undefined);
    const closed = clients.map((c) => new Promise<void>((resolve) => c.once('close', () => resolve())));
    const publishes = reports.map(({ device, payload, alarmType }, i) =>
      clients[i]!.publishAsync(`dev/${device.id}/up`, JSON.stringify(payload), { qos: 1 }).then(() => {
        acknowledged.push(`${device.id} ${alarmType}`);
        // The first PUBACK in hand: the agent dies now, with no chance to finish anything it deferred.
        edge.child.kill('SIGKILL');
      }),
    );
    // A report without PUBACK stays unacknowledged (mqtt.js would resend it): nothing to check.
    void Promise.allSettled(publishes);
    // PUBACKs already on the wire when the agent died still arrive; then the sockets close.
    await Promise.all(closed);
    return acknowledged;
  } finally {
    for (const c of clients) c.end(true);
    await edge.kill('SIGKILL');
  }
}

test(`SIGKILL right after a device's PUBACK, ${ROUNDS} times: every acknowledged alarm survives`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-puback-'));
  try {
    const configFile = writeConfig(dir, await freePort());
    const acknowledged: string[] = [];
    for (let i = 0; i < ROUNDS; i++) acknowledged.push(...(await round(configFile, i)));
    assert.ok(acknowledged.length >= ROUNDS, `at least one PUBACK per round (got ${acknowledged.length})`);
    const stored = storedRaises(join(dir, 'data', 'edge.db'));
    const lost = acknowledged.filter((a) => !stored.has(a));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged alarms lost`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
