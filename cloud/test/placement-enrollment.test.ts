// Placement filled at enrollment, and required placement (issue 11). An enrollment token names the
// communities the gateway may serve; redeeming it allows them, so the gateway's first event at
// another community's address is refused by id, counted and shown to admins (dead letters). With
// requirePlacement on, a gateway with no allowed community is refused outright (`unplaced_gateway`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, topicFor, type AlarmEvent } from '@gridwatch/protocol';
import { getPlacement } from '../src/gateways/placement.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';

const ADMIN = 'placement-enrollment-admin';
const ADDRESSES = `address_id,building,grid,community,street,district
EA-0001,EA-B1,EA-G1,EN-A,EN-S,EN
EB-0001,EB-B1,EB-G1,EN-B,EN-S,EN
`;
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
let cloud: Cloud;
let strict: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', adminToken: ADMIN });
  strict = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', adminToken: ADMIN, requirePlacement: true });
  for (const c of [cloud, strict]) await c.directory.importAddressesCsv(ADDRESSES);
});

after(async () => {
  await cloud?.stop();
  await strict?.stop();
});

async function enroll(c: Cloud, body: Record<string, unknown>): Promise<{ status: number; password?: string }> {
  const issued = await fetch(`${c.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
  if (issued.status !== 201) return { status: issued.status };
  const { token, communities } = (await issued.json()) as { token: string; communities: string[] };
  assert.deepEqual(communities, body.communities ?? []);
  const redeemed = await fetch(`${c.httpUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(redeemed.status, 200, await redeemed.clone().text());
  return { status: 200, ...((await redeemed.json()) as { password: string }) };
}

async function send(c: Cloud, gw: { gatewayId: string; site: string }, password: string, events: AlarmEvent[]): Promise<{ acked: string[]; rejected: { id: string; reason: string }[] }> {
  const client = await connectGateway(c.mqttUrl, gw.gatewayId, password);
  const answers = { acked: [] as string[], rejected: [] as { id: string; reason: string }[] };
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage('ack', payload);
    if (!ack.ok) return;
    answers.acked.push(...ack.value.eventIds);
    answers.rejected.push(...(ack.value.rejected ?? []));
  });
  try {
    await client.subscribeAsync(topicFor(gw, 'ack'), { qos: 1 });
    await client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, events)), { qos: 1 });
    await eventually('every event answered', () => answers.acked.length + answers.rejected.length >= events.length, 20_000);
    return answers;
  } finally {
    await client.endAsync();
  }
}

async function rejectedCount(c: Cloud, label: string): Promise<number> {
  return (await c.metrics.rejected.get()).values.find((v) => v.labels.reason === label)?.value ?? 0;
}

test('an enrollment token with communities fills the registry; the gateway is then held to community A', async () => {
  const gw = { gatewayId: 'gw-enr-a', site: 'site-en' };
  const enrolled = await enroll(cloud, { ...gw, communities: ['EN-A'] });
  assert.deepEqual((await getPlacement(cloud.store, gw.gatewayId)).communities, ['EN-A']);
  const before = await rejectedCount(cloud, 'foreign_address');
  const home = alarmEvent(gw.gatewayId, 1, { deviceId: 'smoke-home', addressId: 'EA-0001' });
  const foreign = alarmEvent(gw.gatewayId, 2, { deviceId: 'smoke-away', addressId: 'EB-0001' });
  const answers = await send(cloud, gw, enrolled.password as string, [home, foreign]);
  assert.deepEqual(answers.acked, [home.id]);
  assert.equal(answers.rejected[0]?.id, foreign.id);
  assert.match(answers.rejected[0]?.reason ?? '', /EB-0001 lies outside the communities gateway gw-enr-a may serve/);
  assert.equal(await rejectedCount(cloud, 'foreign_address'), before + 1);
  const res = await fetch(`${cloud.httpUrl}/api/v1/dead-letters`, { headers: admin });
  const { deadLetters } = (await res.json()) as { deadLetters: { eventId: string | null; reason: string }[] };
  assert.ok(deadLetters.some((d) => d.eventId === foreign.id && /outside the communities/.test(d.reason)), 'admins see the refusal');
  const inB = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE community = 'EN-B'");
  assert.equal(inB[0]?.n, 0);
});

test('a token naming a community the address book does not know is refused at issue (400), nothing stored', async () => {
  const res = await fetch(`${cloud.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ gatewayId: 'gw-enr-typo', site: 'site-en', communities: ['EN-TYPO'] }) });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /EN-TYPO has no address in the address book/);
  const rows = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM enrollment_tokens WHERE gateway_id = 'gw-enr-typo'");
  assert.equal(rows[0]?.n, 0);
});

test('requirePlacement: a gateway with no allowed community is refused by id with a reason; once enrolled with one it routes', async () => {
  const bare = { gatewayId: 'gw-enr-bare', site: 'site-en', secret: 'enrollment-bare-secret' };
  await strict.gateways.addGateway(bare);
  const event = alarmEvent(bare.gatewayId, 1, { deviceId: 'smoke-bare', addressId: 'EA-0001' });
  const answers = await send(strict, bare, bare.secret, [event]);
  assert.deepEqual(answers.acked, []);
  assert.match(answers.rejected[0]?.reason ?? '', /gw-enr-bare has no allowed community and placement is required/);
  assert.equal(await rejectedCount(strict, 'unplaced_gateway'), 1);
  const placed = { gatewayId: 'gw-enr-placed', site: 'site-en' };
  const enrolled = await enroll(strict, { ...placed, communities: ['EN-A'] });
  const ok = alarmEvent(placed.gatewayId, 1, { deviceId: 'smoke-placed', addressId: 'EA-0001' });
  assert.deepEqual((await send(strict, placed, enrolled.password as string, [ok])).acked, [ok.id]);
});

test('requirePlacement defaults: on off loopback, off on loopback, explicit value wins', async () => {
  const { placementRequired, resolveConfig } = await import('../src/config.ts');
  assert.equal(placementRequired(resolveConfig({})), false);
  assert.equal(placementRequired(resolveConfig({ httpHost: '0.0.0.0' })), true);
  assert.equal(placementRequired(resolveConfig({ httpHost: '0.0.0.0', requirePlacement: 'false' })), false);
  assert.equal(placementRequired(resolveConfig({ requirePlacement: true })), true);
});
