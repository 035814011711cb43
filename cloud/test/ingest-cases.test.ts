// Golden ingest cases (CONVENTIONS.md #6): cloud/test/cases/ingest/<slug>/ holds messages.ndjson
// (one events payload per line, published as-is by gateway gw-case), optional config.json (cloud
// configuration) and expected.json: the acks, dead letters, incidents (in id order) and dispatch
// rows the real cloud produces. One runner, one fresh cloud per case, the address book, units and
// rules of cloud/test/fixtures. Name a case after the bug it guards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, topicFor, type AckMessage } from '@gridwatch/protocol';
import { startCloud, type Cloud, type CloudConfigInput } from '../src/index.ts';
import { getIncident, type Incident } from '../src/incidents/incident.ts';
import { connectGateway, eventually } from './helpers.ts';

const CASES = new URL('./cases/ingest/', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const GW = { gatewayId: 'gw-case', site: 'sz-futian', secret: 'golden-case-secret' };

interface ExpectedIncident extends Partial<Incident> {
  members?: never;
}
interface Expected {
  acks: { accepted: string[]; rejected: { id: string; reason: string }[] };
  deadLetters: { eventId: string | null; reason: string }[];
  incidents: (Omit<ExpectedIncident, 'members'> & { members?: string[]; memberAddresses?: string[]; ackDeadlineS?: number })[];
  dispatch: [unitId: string, kind: string][];
  staleEvents?: string[];
}

async function seed(cloud: Cloud): Promise<void> {
  await cloud.directory.importAddressesCsv(readFileSync(join(FIXTURES, 'addresses.csv'), 'utf8'));
  await cloud.directory.importUnitsCsv(readFileSync(join(FIXTURES, 'units.csv'), 'utf8'));
  await cloud.directory.importRulesCsv(readFileSync(join(FIXTURES, 'rules.csv'), 'utf8'));
  await cloud.directory.addConsumer({ id: 'case-centre', name: 'Every unit', units: ['*'] });
  await cloud.gateways.addGateway(GW);
}

async function checkIncidents(cloud: Cloud, slug: string, expected: Expected['incidents']): Promise<void> {
  const ids = await cloud.store.query<{ id: string }>('SELECT id FROM incidents ORDER BY id');
  assert.equal(ids.length, expected.length, `${slug}: number of incidents`);
  for (const [index, want] of expected.entries()) {
    const got = (await getIncident(cloud.store, Number(ids[index]?.id))) as Incident;
    const { members, memberAddresses, ackDeadlineS, ...fields } = want;
    for (const [key, value] of Object.entries(fields)) assert.deepEqual(got[key as keyof Incident], value, `${slug}: incident ${index} ${key}`);
    if (members) assert.deepEqual(got.members.map((m) => m.deviceId), members, `${slug}: incident ${index} members`);
    if (memberAddresses) assert.deepEqual(got.members.map((m) => m.addressId), memberAddresses, `${slug}: incident ${index} addresses`);
    if (ackDeadlineS !== undefined) {
      const rows = await cloud.store.query<{ secs: number }>(
        "SELECT round(extract(epoch FROM due_at - now()))::int AS secs FROM deadlines WHERE incident_id = $1 AND kind = 'ack' AND fired_at IS NULL AND cancelled_at IS NULL",
        [got.id],
      );
      assert.equal(rows.length, 1, `${slug}: one pending ack deadline`);
      assert.ok(Math.abs((rows[0]?.secs ?? 0) - ackDeadlineS) <= 3, `${slug}: ack deadline ${rows[0]?.secs} s, expected ${ackDeadlineS}`);
    }
  }
}

async function runCase(slug: string): Promise<void> {
  const dir = join(CASES, slug);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  const config = existsSync(join(dir, 'config.json')) ? (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as CloudConfigInput) : {};
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', ...config });
  try {
    await seed(cloud);
    const gateway = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
    const acks: AckMessage[] = [];
    gateway.on('message', (_t, payload) => {
      const ack = decodeMessage('ack', payload);
      if (ack.ok) acks.push(ack.value);
    });
    await gateway.subscribeAsync(topicFor(GW, 'ack'), { qos: 1 });
    const lines = readFileSync(join(dir, 'messages.ndjson'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    // Ingest holds each PUBACK until the message is processed, so the lines apply in order.
    for (const line of lines) await gateway.publishAsync(topicFor(GW, 'events'), line, { qos: 1 });
    const answered = expected.acks.accepted.length + expected.acks.rejected.length;
    await eventually(`${slug}: ${answered} answers`, () => acks.flatMap((a) => [...a.eventIds, ...(a.rejected ?? []).map((r) => r.id)]).length >= answered || undefined);
    await gateway.endAsync();

    assert.deepEqual(acks.flatMap((a) => a.eventIds), expected.acks.accepted, `${slug}: acked ids`);
    const rejected = acks.flatMap((a) => a.rejected ?? []);
    assert.deepEqual(rejected.map((r) => r.id), expected.acks.rejected.map((r) => r.id), `${slug}: rejected ids`);
    for (const [i, r] of rejected.entries()) assert.ok(r.reason.includes(expected.acks.rejected[i]!.reason), `${slug}: reason "${r.reason}"`);

    const letters = await cloud.store.query<{ event_id: string | null; reason: string }>('SELECT event_id, reason FROM dead_letters ORDER BY id');
    assert.deepEqual(letters.map((l) => l.event_id), expected.deadLetters.map((l) => l.eventId), `${slug}: dead letters`);
    for (const [i, l] of letters.entries()) assert.ok(l.reason.includes(expected.deadLetters[i]!.reason), `${slug}: dead letter reason "${l.reason}"`);

    await checkIncidents(cloud, slug, expected.incidents);
    const dispatch = await cloud.store.query<{ unit_id: string; kind: string }>('SELECT unit_id, kind FROM dispatch_messages ORDER BY id');
    assert.deepEqual(dispatch.map((d) => [d.unit_id, d.kind]), expected.dispatch, `${slug}: dispatch rows`);
    if (expected.staleEvents) {
      const stale = await cloud.store.query<{ event_id: string }>('SELECT event_id FROM events WHERE NOT applied ORDER BY seq');
      assert.deepEqual(stale.map((s) => s.event_id), expected.staleEvents, `${slug}: events stored but not applied`);
    }
  } finally {
    await cloud.stop();
  }
}

const slugs = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test('the golden ingest cases exist', () => assert.ok(slugs.length >= 6, slugs.join(', ')));

for (const slug of slugs) test(`ingest case ${slug}`, { timeout: 120_000 }, () => runCase(slug));
