// The walking skeleton end to end: a simulated detector → edge agent (a real child process) →
// cloud broker → ingest → PostgreSQL (PGlite) → REST API and socket.io; and the outbox contract
// across SIGKILL: each alarm is exactly one incident however the agent dies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { startCloud, MEMORY_DATA_DIR, INCIDENT_EVENT, type Cloud, type Incident } from '@gridwatch/cloud';
import { SmokeDetectorSim } from '@gridwatch/sim';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { edgeHealth, spawnEdge, type EdgeProcess } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { eventRowsFor, gatewayFixture, incidentsFor, type GatewayFixture } from '../support/fixtures.ts';

let cloud: Cloud;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  cloud = await startCloud({ httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent' });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await cloud.stop();
});

async function startDetector(edge: EdgeProcess, fixture: GatewayFixture, index = 0): Promise<SmokeDetectorSim> {
  const device = fixture.devices[index]!;
  const sim = new SmokeDetectorSim({ brokerUrl: `mqtt://127.0.0.1:${edge.localMqttPort}`, deviceId: device.id, username: device.username, password: device.password });
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

function track(fixture: GatewayFixture, edge: EdgeProcess): void {
  cleanups.push(() => edge.kill('SIGKILL'));
  cleanups.push(() => rmSync(fixture.dir, { recursive: true, force: true }));
}

test('a simulated smoke alarm becomes an incident in the REST API and on socket.io', async () => {
  const fixture = await gatewayFixture(cloud, { gatewayId: 'gw-e2e-1', cloudUrl: cloud.mqttUrl, deviceIds: ['smoke-e2e-1'] });
  const edge = await spawnEdge(fixture.configFile);
  track(fixture, edge);
  await eventually('uplink connected', async () => ((await edgeHealth(edge.httpPort)).uplink === 'connected' ? true : undefined), 10_000);

  const socket: Socket = connectSocket(cloud.httpUrl, { transports: ['websocket'], forceNew: true });
  cleanups.push(() => void socket.close());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  const pushed: Incident[] = [];
  socket.on(INCIDENT_EVENT, (incident: Incident) => pushed.push(incident));

  const sim = await startDetector(edge, fixture);
  const beforeAlarm = Date.now();
  await sim.alarm();

  const [incident] = await eventually('the incident in GET /api/v1/incidents', async () => {
    const found = await incidentsFor(cloud, 'smoke-e2e-1');
    return found.length > 0 ? found : undefined;
  }, 10_000);
  assert.ok(incident);
  assert.equal(incident.deviceId, 'smoke-e2e-1');
  assert.equal(incident.gatewayId, 'gw-e2e-1');
  assert.equal(incident.alarmType, 'smoke');
  assert.equal(incident.level, 1);
  assert.equal(incident.status, 'raised');
  assert.equal(incident.addressId, 'FT-TEST-0001');
  assert.ok(incident.raisedEdgeTime >= beforeAlarm && incident.raisedEdgeTime <= Date.now(), `edge timestamp ${incident.raisedEdgeTime} lies outside the alarm window`);
  assert.ok(incident.raisedAt >= incident.raisedEdgeTime - 1000, 'cloud receive time is the cloud\'s own, not before the edge time');
  const [event] = await cloud.store.query<{ edge_time: Date | string }>('SELECT edge_time FROM events WHERE event_id = $1', [incident.firstEventId]);
  assert.equal(new Date(event!.edge_time).getTime(), incident.raisedEdgeTime, 'the incident carries the edge timestamp of its event');
  assert.match(incident.firstEventId, /^gw-e2e-1:\d+$/);

  const live = await eventually('the incident on socket.io', () => pushed.find((p) => p.id === incident.id), 5_000);
  assert.equal(live.deviceId, 'smoke-e2e-1');
  assert.equal(live.alarmType, 'smoke');
  assert.equal(live.level, 1);
  assert.equal(live.raisedEdgeTime, incident.raisedEdgeTime);

  await eventually('the outbox drained by the ack', async () => ((await edgeHealth(edge.httpPort)).outbox.pending === 0 ? true : undefined), 10_000);

  await sim.clear();
  // Level 1 needs a human (ISA-18.2 "returned, unacknowledged"): the clear is recorded, the
  // incident stays open until staff acknowledge it.
  const returned = await eventually('the clear to reach the incident', async () => {
    const [i] = await incidentsFor(cloud, 'smoke-e2e-1');
    return i?.alarmState === 'returned' ? i : undefined;
  }, 10_000);
  assert.equal(returned.id, incident.id);
  assert.equal(returned.status, 'raised');
  assert.ok(returned.clearedAt !== null);
  await eventually('the returned incident on socket.io', () => pushed.find((p) => p.id === incident.id && p.alarmState === 'returned'), 5_000);
});

test('agent SIGKILLed after the cloud committed but before the ack arrived: exactly one incident', async () => {
  const proxy = new TcpProxy('127.0.0.1', cloud.mqttPort!);
  await proxy.start();
  cleanups.push(() => proxy.stop());
  const fixture = await gatewayFixture(cloud, { gatewayId: 'gw-e2e-2', cloudUrl: proxy.url, deviceIds: ['smoke-e2e-2'] });
  let edge = await spawnEdge(fixture.configFile);
  track(fixture, edge);
  await eventually('uplink connected', async () => ((await edgeHealth(edge.httpPort)).uplink === 'connected' ? true : undefined), 10_000);
  await edge.waitForLog((l) => l.msg === 'uplink subscribed', 10_000);

  // From here the cloud's PUBACKs and acks never reach the agent.
  proxy.holdDownstream();
  const sim = await startDetector(edge, fixture);
  await sim.alarm();
  const durable = await edge.waitForLog((l) => l.msg === 'event durable');
  const eventId = String(durable.eventId);

  await eventually('the cloud to commit the incident', async () => ((await incidentsFor(cloud, 'smoke-e2e-2')).length === 1 ? true : undefined), 10_000);
  assert.equal((await edgeHealth(edge.httpPort)).outbox.pending, 1, 'the event stays in the outbox while its ack is held back');
  await sim.stop();
  await edge.kill('SIGKILL');

  proxy.dropHeldAndPass();
  edge = await spawnEdge(fixture.configFile);
  track(fixture, edge);
  await edge.waitForLog((l) => l.msg === 'uplink subscribed', 10_000);
  await eventually('the replayed event to be acked', async () => ((await edgeHealth(edge.httpPort)).outbox.pending === 0 ? true : undefined), 15_000);

  const incidents = await incidentsFor(cloud, 'smoke-e2e-2');
  assert.equal(incidents.length, 1, 'exactly one incident for the event');
  assert.equal(incidents[0]!.occurrences, 1, 'the replay was not counted as a second occurrence');
  assert.equal(incidents[0]!.firstEventId, eventId);
  assert.deepEqual((await eventRowsFor(cloud, 'smoke-e2e-2')).map((r) => r.event_id), [eventId]);
  const duplicates = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
  assert.match(duplicates, /gridwatch_ingest_duplicates_total\S* [1-9]/, 'the cloud saw the replay and recognised it');
});

test('agent SIGKILLed after the event became durable but before the cloud saw it: delivered once after restart', async () => {
  const proxy = new TcpProxy('127.0.0.1', cloud.mqttPort!);
  await proxy.start();
  cleanups.push(() => proxy.stop());
  const fixture = await gatewayFixture(cloud, { gatewayId: 'gw-e2e-3', cloudUrl: proxy.url, deviceIds: ['smoke-e2e-3'] });
  let edge = await spawnEdge(fixture.configFile);
  track(fixture, edge);

  proxy.cut();
  const sim = await startDetector(edge, fixture);
  await sim.alarm();
  const durable = await edge.waitForLog((l) => l.msg === 'event durable');
  await edge.kill('SIGKILL');
  await sim.stop();
  assert.equal((await incidentsFor(cloud, 'smoke-e2e-3')).length, 0, 'the cloud cannot have seen the event through a cut link');

  proxy.restore();
  edge = await spawnEdge(fixture.configFile);
  track(fixture, edge);
  await eventually('the stored event to be delivered', async () => ((await edgeHealth(edge.httpPort)).outbox.pending === 0 ? true : undefined), 15_000);
  const incidents = await incidentsFor(cloud, 'smoke-e2e-3');
  assert.equal(incidents.length, 1);
  assert.equal(incidents[0]!.firstEventId, durable.eventId);
  assert.equal(incidents[0]!.alarmType, 'smoke');
  assert.deepEqual((await eventRowsFor(cloud, 'smoke-e2e-3')).map((r) => r.event_id), [durable.eventId]);
});
