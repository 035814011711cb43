// Attack: a gateway allowed community A (placed by an admin through the REST route) raises alarms
// at addresses it has no business with — an address in community B, a placed device claiming B or
// another flat in A, an address the book does not know. Accepted = the cloud acknowledged the event
// (it committed) or an incident appeared outside A. The same attacks are then run with the check
// planted off (placementTestHooks.bypass) to show this case can fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, topicFor, type AlarmEvent } from '@gridwatch/protocol';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { placementTestHooks } from '../../cloud/src/gateways/placement.ts';
import { alarmEvent, connectGateway, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { Tally } from './support.ts';

const ADMIN = 'foreign-address-admin-token';
const ADDRESSES = `address_id,building,grid,community,street,district
XA-0001,XA-B1,XA-G1,X-A,X-S,X
XA-0002,XA-B2,XA-G1,X-A,X-S,X
XB-0001,XB-B1,XB-G1,X-B,X-S,X
`;
const GW = { gatewayId: 'gw-xa', site: 'site-a', secret: 'foreign-address-secret-a' };
let cloud: Cloud;
let seq = 0;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false, adminToken: ADMIN });
  await cloud.directory.importAddressesCsv(ADDRESSES);
  await cloud.gateways.addGateway(GW);
  const res = await fetch(`${cloud.httpUrl}/api/v1/gateways/${GW.gatewayId}/placement`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ devices: [{ deviceId: 'smoke-placed', addressId: 'XA-0001' }] }),
  });
  assert.equal(res.status, 200, await res.text());
});

after(async () => {
  placementTestHooks.bypass = false;
  await cloud?.stop();
});

function attacks(): [string, AlarmEvent][] {
  const ev = (overrides: Partial<AlarmEvent>): AlarmEvent => alarmEvent(GW.gatewayId, ++seq, { level: 1, ...overrides });
  return [
    ['new device in another community', ev({ deviceId: `smoke-new-${seq}`, addressId: 'XB-0001' })],
    ['placed device claims another community', ev({ deviceId: 'smoke-placed', addressId: 'XB-0001' })],
    ['placed device claims another flat of its community', ev({ deviceId: 'smoke-placed', addressId: 'XA-0002', alarmType: 'heat' })],
    ['address unknown to the book', ev({ deviceId: `smoke-ghost-${seq}`, addressId: 'NOWHERE-1' })],
  ];
}

/** Sends every attack in one batch; returns the tally (accepted = acked or an incident outside A). */
async function run(): Promise<Tally> {
  const tally = new Tally();
  const batch = attacks();
  const client = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  const answered = new Map<string, boolean>();
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    if (!ack.ok) return;
    for (const id of ack.value.eventIds) answered.set(id, true);
    for (const r of ack.value.rejected ?? []) answered.set(r.id, false);
  });
  try {
    await client.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
    await client.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, batch.map(([, e]) => e))), { qos: 1 });
    await eventually('every attack answered', () => answered.size >= batch.length, 20_000);
  } finally {
    await client.endAsync();
  }
  for (const [attack, event] of batch) {
    const outside = await cloud.store.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events e JOIN incidents i ON i.id = e.incident_id WHERE e.event_id = $1 AND (i.community IS DISTINCT FROM 'X-A' OR i.address_id <> 'XA-0001')",
      [event.id],
    );
    tally.record(attack, answered.get(event.id) === true || (outside[0]?.n ?? 0) > 0);
  }
  return tally;
}

test('foreign address: a gateway cannot raise alarms outside its placement', async () => {
  const tally = await run();
  tally.assertNoneAccepted();
  const inB = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE community = 'X-B'");
  assert.equal(inB[0]?.n, 0);
});

test('planted regression: with the placement check off the same attacks are accepted', async () => {
  placementTestHooks.bypass = true;
  try {
    const tally = await run();
    assert.throws(() => tally.assertNoneAccepted(), /attempts accepted/);
    const accepted = Object.values(tally.summary()).filter((c) => c.accepted > 0).length;
    assert.ok(accepted >= 2, `expected the bypass to let attacks through, got ${JSON.stringify(tally.summary())}`);
  } finally {
    placementTestHooks.bypass = false;
  }
});
