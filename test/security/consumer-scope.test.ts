// Attack: a dispatch consumer limited to one unit (grid-g03, area FT-G03) reaches for an incident of
// another area (FT-G01) on every incident route, CAP, actions and socket.io; and names a forged
// actor on its own incident. Accepted = the foreign incident was shown or changed, or the audit
// records the forged actor. Planted regression: the same attacks with a key whose reach is every
// incident (units ['*'] makes consumerReach answer null, which is what every consumer got before the
// fix) show the case detects a leak.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { io as ioClient, type Socket } from 'socket.io-client';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { INCIDENT_EVENT, startCloud, type Cloud, type Incident } from '../../cloud/src/index.ts';
import { alarmEvent, connectGateway, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { Tally } from './support.ts';

const ADMIN = 'consumer-scope-admin-token';
const GW = { gatewayId: 'gw-scope-01', site: 'sz-futian', secret: 'consumer-scope-secret' };
const fixture = (name: string): string => readFileSync(new URL(`../../cloud/test/fixtures/${name}`, import.meta.url), 'utf8');
let cloud: Cloud;
let mineKey: string;
let allKey: string;
let plantedKey: string;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false, adminToken: ADMIN });
  await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.gateways.addGateway(GW);
  mineKey = (await cloud.directory.addConsumer({ id: 'mine', name: 'G03 only', units: ['grid-g03'] })).apiKey;
  allKey = (await cloud.directory.addConsumer({ id: 'all', name: 'Everything', units: ['*'] })).apiKey;
  plantedKey = (await cloud.directory.addConsumer({ id: 'planted', name: 'Reach off', units: ['*'] })).apiKey;
});

after(async () => {
  await cloud?.stop();
});

/** The REST reaches for the foreign incident; the own one must stay visible. */
async function restAttacks(key: string, foreign: Incident, own: Incident): Promise<Tally> {
  const tally = new Tally();
  const listed = JSON.parse((await call(key, 'GET', '/api/v1/incidents')).text) as { incidents: Incident[] };
  tally.record('list shows foreign', listed.incidents.some((i) => i.id === foreign.id));
  assert.ok(listed.incidents.some((i) => i.id === own.id), 'its own incident is listed');
  for (const suffix of ['', '/audit', '/context', '/cap']) {
    const res = await call(key, 'GET', `/api/v1/incidents/${foreign.id}${suffix}`);
    tally.record(`GET incident${suffix}`, res.status !== 404);
  }
  const act = await call(key, 'POST', `/api/v1/incidents/${foreign.id}/actions`, { action: 'false_alarm', actor: 'someone-else' });
  tally.record('action on foreign', act.status !== 404);
  return tally;
}

const call = async (key: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${cloud.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, text: await res.text() };
};

test('a unit-scoped consumer sees and acts only within its units’ areas, as itself', async () => {
  const socket: Socket = ioClient(cloud.httpUrl, { transports: ['websocket'], auth: { apiKey: mineKey }, forceNew: true });
  const pushed: Incident[] = [];
  socket.on(INCIDENT_EVENT, (incident: Incident) => pushed.push(incident));
  await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
  const gateway = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  try {
    // Foreign first (FT-G01), then its own (FT-G03): pushes keep order, so once the own one
    // arrived the foreign one would have too.
    for (const [seq, addressId, deviceId] of [[1, 'FT-0001-0203', 'smoke-foreign'], [2, 'FT-0003-0101', 'smoke-own']] as const) {
      await gateway.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [alarmEvent(GW.gatewayId, seq, { addressId, deviceId })])), { qos: 1 });
    }
    const all = await eventually('both incidents', async () => {
      const list = JSON.parse((await call(allKey, 'GET', '/api/v1/incidents')).text) as { incidents: Incident[] };
      return list.incidents.length === 2 ? list.incidents : undefined;
    });
    const foreign = all.find((i) => i.deviceId === 'smoke-foreign') as Incident;
    const own = all.find((i) => i.deviceId === 'smoke-own') as Incident;
    await eventually('own incident pushed', () => pushed.some((i) => i.id === own.id));

    const tally = await restAttacks(mineKey, foreign, own);
    tally.record('socket.io pushed foreign', pushed.some((i) => i.id === foreign.id));

    const acked = await call(mineKey, 'POST', `/api/v1/incidents/${own.id}/actions`, { action: 'acknowledge', actor: 'forged-person' });
    assert.equal(acked.status, 200, acked.text);
    const audit = JSON.parse((await call(allKey, 'GET', `/api/v1/incidents/${own.id}/audit`)).text) as { audit: { action: string; actor: string }[] };
    const entry = audit.audit.find((a) => a.action === 'acknowledge');
    tally.record('forged actor recorded', entry?.actor !== 'consumer:mine');
    tally.assertNoneAccepted();
  } finally {
    socket.close();
    await gateway.endAsync();
  }
});

test('planted regression: a key whose reach is every incident (the old null scope) gets the foreign incident', async () => {
  const list = JSON.parse((await call(allKey, 'GET', '/api/v1/incidents')).text) as { incidents: Incident[] };
  const foreign = list.incidents.find((i) => i.deviceId === 'smoke-foreign') as Incident;
  const own = list.incidents.find((i) => i.deviceId === 'smoke-own') as Incident;
  assert.ok(foreign && own, 'the first case raised both incidents');
  const summary = (await restAttacks(plantedKey, foreign, own)).summary();
  for (const attack of ['list shows foreign', 'GET incident', 'GET incident/cap', 'action on foreign']) {
    assert.ok((summary[attack]?.accepted ?? 0) > 0, `${attack} should leak with the reach off: ${JSON.stringify(summary)}`);
  }
});
