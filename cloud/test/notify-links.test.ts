// Signed acknowledge links end to end through the cloud's HTTP server: the page opens without a
// login and changes nothing; a button acts once through the lifecycle, audited with the person and
// channel; a reused, expired or altered link is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startCloud, type Cloud } from '../src/index.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { auditTrail, getIncident } from '../src/incidents/incident.ts';
import { Outcome } from '../src/incidents/outcome.ts';
import { linkKey } from '../src/notify/ack.ts';
import { issueLink } from '../src/notify/links.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { alarmEvent, createTempDatabase, type TempDatabase } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const gateway = { gatewayId: 'gw-links', site: 'sz-futian' };
let db: TempDatabase;
let cloud: Cloud;
let seq = 0;

async function raiseIncident(): Promise<number> {
  const event = alarmEvent(gateway.gatewayId, ++seq, { deviceId: `smoke-${seq}`, level: 1 });
  await cloud.store.transaction((tx) => applyEvents(tx, gateway, [event], DEFAULT_ENGINE, new Outcome()));
  const rows = await cloud.store.query<{ incident_id: string }>('SELECT incident_id FROM events WHERE event_id = $1', [event.id]);
  return Number(rows[0]?.incident_id);
}

async function link(incidentId: number, ttlMs = 600_000, now = Date.now()): Promise<string> {
  return issueLink(cloud.store, await linkKey(cloud.store), { incidentId, personId: 'p-wang', channel: 'tencent-sms', ttlMs, now });
}

const post = (token: string, action: string): Promise<Response> => fetch(`${cloud.httpUrl}/ack/${token}/${action}`, { method: 'POST' });

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent' });
  await new GatewayRegistry(cloud.store).addGateway({ ...gateway, secret: 'links-secret-0001' });
  await cloud.store.transaction(async (tx) => {
    await importAddressesCsv(tx, fixture('addresses.csv'));
    await importUnitsCsv(tx, fixture('units.csv'));
    await importRulesCsv(tx, fixture('rules.csv'));
  });
});
after(async () => {
  await cloud.stop();
  await db.drop();
});

test('links: the page shows the incident and its three actions; opening it changes nothing', async () => {
  const id = await raiseIncident();
  const token = await link(id);
  const res = await fetch(`${cloud.httpUrl}/ack/${token}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  for (const label of ['确认', '到场', '误报']) assert.ok(html.includes(`>${label}</button>`), label);
  assert.ok(html.includes(`action="/ack/${token}/acknowledge"`));
  assert.equal((await getIncident(cloud.store, id))?.status, 'raised');
  assert.equal((await auditTrail(cloud.store, id)).filter((a) => a.source.startsWith('link:')).length, 0);
});

test('links: 确认 acknowledges through the lifecycle, audited with person and channel; reuse is refused', async () => {
  const id = await raiseIncident();
  const token = await link(id);
  const res = await post(token, 'acknowledge');
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await getIncident(cloud.store, id))?.status, 'acknowledged');
  const row = (await auditTrail(cloud.store, id)).find((a) => a.action === 'acknowledge');
  assert.deepEqual({ actor: row?.actor, source: row?.source }, { actor: 'p-wang', source: 'link:tencent-sms' });
  const again = await post(token, 'on_site');
  assert.equal(again.status, 410);
  assert.match(await again.text(), /链接已使用/);
  assert.equal((await getIncident(cloud.store, id))?.status, 'acknowledged');
});

test('links: an expired link is refused and the incident stays as it was', async () => {
  const id = await raiseIncident();
  const token = await link(id, 60_000, Date.now() - 120_000);
  assert.equal((await post(token, 'acknowledge')).status, 410);
  assert.equal((await fetch(`${cloud.httpUrl}/ack/${token}`)).status, 410);
  assert.equal((await getIncident(cloud.store, id))?.status, 'raised');
});

test('links: an altered link (other incident, longer expiry, forged signature) is refused', async () => {
  const id = await raiseIncident();
  const other = await raiseIncident();
  const token = await link(id);
  const [jti, expires, , sig] = token.split('.');
  const forgedIncident = `${jti}.${expires}.${other}.${sig}`;
  const forgedExpiry = `${jti}.${Number(expires) + 86_400_000}.${id}.${sig}`;
  const forgedSig = `${jti}.${expires}.${id}.${(sig ?? '').replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`;
  for (const forged of [forgedIncident, forgedExpiry, forgedSig]) assert.equal((await post(forged, 'false_alarm')).status, 403, forged);
  assert.equal((await getIncident(cloud.store, id))?.status, 'raised');
  assert.equal((await getIncident(cloud.store, other))?.status, 'raised');
  assert.equal((await post(token, 'false_alarm')).status, 200);
});
