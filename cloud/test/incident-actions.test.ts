// Incident actions of issues 13 and 17 on a real cloud and PostgreSQL: reassign (改派) with its
// dispatch hand-over and scope, shelving (搁置) with its policy, paused deadlines, the expiry job and
// the live update, the flood notice acknowledged with its members in one step, the maintenance lane
// kept out of the dispatch centre's queue, and deadlines on the rehearsal clock (a replayed raise
// gets the deadline of its own time). Each refusal is a real HTTP call (400/403/409).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { AlarmEvent } from '@gridwatch/protocol';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { fireDueDeadlines } from '../src/incidents/deadlines.ts';
import { Outcome, type EngineOptions } from '../src/incidents/outcome.ts';
import { parseAlarmPolicy } from '../src/incidents/policy.ts';
import { playScript } from '../src/replay/play.ts';
import { resolveConfig, type CloudConfigInput } from '../src/config.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { startCloud, type Cloud, type Incident } from '../src/index.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { migrate } from '../src/store/migrate.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { engineOptions } from '../src/wiring/engine.ts';
import { alarmEvent, createTempDatabase, eventually, type TempDatabase } from './helpers.ts';

const GW = { gatewayId: 'gw-actions', site: 'sz-futian', secret: 'actions-secret-01' };
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
/** Level 3 (water_leak): 1 s to acknowledge, so a paused or running deadline shows within the test. */
const DEADLINES = { 3: { ackS: 1 } };

const CONFIG: CloudConfigInput = {
  httpPort: 0,
  mqttPort: 0,
  logLevel: 'silent',
  tickMs: 100,
  openAccess: false,
  deadlines: DEADLINES,
  // Faults flood after 3 items (the group acknowledge); the other types stay on their own.
  alarmPolicy: { version: 1, defaults: { flood: { count: 3 } }, types: Object.fromEntries(['water_leak', 'smoke', 'tamper'].map((t) => [t, { flood: { fold: false } }])) },
};
const ENGINE = engineOptions(resolveConfig(CONFIG));

let db: TempDatabase;
let cloud: Cloud;
let seq = 0;
let c01Token = '';

interface Answer<T> {
  status: number;
  body: T;
}

async function call<T = Incident>(method: string, path: string, body?: unknown, token = c01Token): Promise<Answer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${cloud.httpUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}

const act = (id: number, body: Record<string, unknown>, token?: string): Promise<Answer<Incident & { error?: string }>> => call('POST', `/api/v1/incidents/${id}/actions`, body, token);

/** An alarm through the cloud's incident logic (as ingest applies it), with the cloud's engine options. */
async function raise(overrides: Partial<AlarmEvent>, store = cloud.store, engine: EngineOptions = ENGINE): Promise<Incident> {
  seq += 1;
  const event = alarmEvent(GW.gatewayId, seq, { edgeTime: Date.now(), addressId: 'FT-0001-0203', ...overrides });
  const result = await store.transaction((tx) => applyEvents(tx, GW, [event], engine));
  assert.deepEqual(result.rejected, []);
  return result.incidents.at(-1) as Incident;
}

async function auditOf(id: number): Promise<{ action: string; actor: string; note: string; noteParams?: Record<string, unknown> }[]> {
  return (await call<{ audit: { action: string; actor: string; note: string; noteParams?: Record<string, unknown> }[] }>('GET', `/api/v1/incidents/${id}/audit`)).body.audit;
}

const messages = (incidentId: number): Promise<{ consumer_id: string; unit_id: string; kind: string; state: string }[]> =>
  cloud.store.query('SELECT consumer_id, unit_id, kind, state FROM dispatch_messages WHERE incident_id = $1 ORDER BY id', [incidentId]);

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ ...CONFIG, databaseUrl: db.url });
  await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.directory.importRulesCsv(fixture('rules.csv'));
  await cloud.directory.addConsumer({ id: 'centre', name: 'Dispatch centre', units: ['*'] });
  await cloud.directory.addConsumer({ id: 'g02-app', name: 'Grid G02 app', units: ['grid-g02'] });
  await cloud.directory.addConsumer({ id: 'g01-app', name: 'Grid G01 app', units: ['grid-g01'] });
  await cloud.gateways.addGateway(GW);
  await cloud.directory.addUser({ username: 'c01.staff', password: 'c01-staff-password', role: 'community_staff', jurisdictions: ['community:FT-C01'] });
  const login = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'c01.staff', password: 'c01-staff-password' }) });
  c01Token = ((await login.json()) as { token: string }).token;
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
});

describe('shelving policy as data', () => {
  test('defaults 8 h and levels 3–5; overridable; mistakes are refused naming the path', () => {
    assert.deepEqual(parseAlarmPolicy({ version: 1 }).shelving, { maxHours: 8, levels: [3, 4, 5] });
    assert.deepEqual(parseAlarmPolicy({ version: 1, shelving: { levels: [4, 5] } }).shelving, { maxHours: 8, levels: [4, 5] });
    assert.throws(() => parseAlarmPolicy({ version: 1, shelving: { maxHours: 0 } }), /^Error: alarmPolicy\.shelving\.maxHours/);
    assert.throws(() => parseAlarmPolicy({ version: 1, shelving: { levels: [6] } }), /^Error: alarmPolicy\.shelving\.levels/);
    assert.throws(() => parseAlarmPolicy({ version: 1, shelving: { hours: 2 } }), /^Error: alarmPolicy\.shelving/);
  });
});

describe('reassign (改派)', () => {
  test('the unit changes, the status stays, the new unit is dispatched and the old one’s pending message withdrawn', async () => {
    const incident = await raise({ deviceId: 'smoke-ra', alarmType: 'smoke', level: 1 });
    assert.equal(incident.unitId, 'grid-g01');
    assert.deepEqual((await messages(incident.id)).map((m) => [m.consumer_id, m.state]).sort(), [['centre', 'ready'], ['g01-app', 'ready']]);
    assert.equal((await act(incident.id, { action: 'acknowledge' })).status, 200);
    const done = await act(incident.id, { action: 'reassign', unitId: 'grid-g02', note: '网格员 G01 病假' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.unitId, 'grid-g02');
    assert.equal(done.body.status, 'acknowledged', 'status kept');
    const rows = await messages(incident.id);
    assert.ok(rows.some((m) => m.consumer_id === 'g02-app' && m.kind === 'dispatch' && m.unit_id === 'grid-g02'), JSON.stringify(rows));
    assert.ok(rows.filter((m) => m.unit_id === 'grid-g01').every((m) => m.state === 'cancelled'), `old unit's undelivered messages withdrawn: ${JSON.stringify(rows)}`);
    const trail = await auditOf(incident.id);
    const row = trail.find((a) => a.action === 'reassign');
    assert.ok(row, trail.map((a) => a.action).join(','));
    assert.equal(row.actor, 'c01.staff');
    assert.equal(row.note, '网格员 G01 病假');
    assert.deepEqual(row.noteParams, { fromUnit: 'grid-g01', toUnit: 'grid-g02' });
    const deadlines = await cloud.store.query<{ kind: string }>('SELECT kind FROM deadlines WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL', [incident.id]);
    assert.deepEqual(deadlines.map((d) => d.kind), ['on_site'], 'the new unit has the on-site deadline of its stage');
  });

  test('refusals: unitId and a reason are required, the unit must exist and be within the caller’s jurisdictions, not from a final state', async () => {
    const incident = await raise({ deviceId: 'smoke-rb', alarmType: 'smoke', level: 1 });
    const missingUnit = await act(incident.id, { action: 'reassign', note: 'x' });
    assert.equal(missingUnit.status, 400);
    assert.match(missingUnit.body.error ?? '', /^unitId/);
    const missingNote = await act(incident.id, { action: 'reassign', unitId: 'grid-g02' });
    assert.equal(missingNote.status, 400);
    assert.match(missingNote.body.error ?? '', /^note/);
    const unknown = await act(incident.id, { action: 'reassign', unitId: 'grid-g99', note: 'x' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error ?? '', /^unitId: unit grid-g99 not found/);
    const outside = await act(incident.id, { action: 'reassign', unitId: 'comm-c02', note: 'not mine' });
    assert.equal(outside.status, 403, JSON.stringify(outside.body));
    assert.match(outside.body.error ?? '', /outside your jurisdictions/);
    assert.equal((await act(incident.id, { action: 'reassign', unitId: 'comm-c01', note: '社区接手' })).status, 200, 'the community office of the caller’s community');
    assert.equal((await act(incident.id, { action: 'false_alarm', note: 'steam' })).status, 200);
    assert.equal((await act(incident.id, { action: 'reassign', unitId: 'grid-g02', note: 'x' })).status, 409);
  });
});

describe('shelving (搁置)', () => {
  test('policy: levels 1–2 may not be shelved; a reason and an until within maxHours are required', async () => {
    const fire = await raise({ deviceId: 'smoke-sa', alarmType: 'smoke', level: 1 });
    const refused = await act(fire.id, { action: 'shelve', note: 'noisy', until: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error ?? '', /^level: a level-1 incident may not be shelved/);
    const leak = await raise({ deviceId: 'leak-sa', alarmType: 'water_leak', level: 3 });
    const noUntil = await act(leak.id, { action: 'shelve', note: 'plumber tomorrow' });
    assert.equal(noUntil.status, 400);
    assert.match(noUntil.body.error ?? '', /^until/);
    const tooLong = await act(leak.id, { action: 'shelve', note: 'plumber tomorrow', until: new Date(Date.now() + 9 * 3_600_000).toISOString() });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.error ?? '', /^until: at most 8 h/);
    const noNote = await act(leak.id, { action: 'shelve', until: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(noNote.status, 400);
    assert.match(noNote.body.error ?? '', /^note/);
    assert.equal((await act(leak.id, { action: 'unshelve' })).status, 409, 'not shelved');
  });

  test('a shelved incident leaves the board, is listed with shelved=true, and its deadline does not escalate', async () => {
    const shelved = await raise({ deviceId: 'leak-sb', alarmType: 'water_leak', level: 3, addressId: 'FT-0002-0101' });
    const control = await raise({ deviceId: 'leak-sc', alarmType: 'water_leak', level: 3, addressId: 'FT-0004-0101' });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const done = await act(shelved.id, { action: 'shelve', note: '物业已知, 明早维修', until });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.shelvedUntil, until);
    assert.equal(done.body.shelvedReason, '物业已知, 明早维修');
    const board = (await call<{ incidents: Incident[] }>('GET', '/api/v1/incidents?board=true')).body.incidents.map((i) => i.id);
    assert.ok(!board.includes(shelved.id) && board.includes(control.id), 'off the board; the control is on it');
    const list = (await call<{ incidents: Incident[] }>('GET', '/api/v1/incidents?shelved=true')).body.incidents.map((i) => i.id);
    assert.ok(list.includes(shelved.id) && !list.includes(control.id), JSON.stringify(list));
    // The control's 1 s deadline escalates; the shelved one's, due at the same time, is paused.
    await eventually('the control escalates', async () => ((await auditOf(control.id)).some((a) => a.action === 'escalate') ? true : undefined));
    assert.ok(!(await auditOf(shelved.id)).some((a) => a.action === 'escalate'), 'a shelved incident does not escalate');
    const back = await act(shelved.id, { action: 'unshelve', note: '提前处理' });
    assert.equal(back.status, 200);
    assert.equal(back.body.shelvedUntil, null);
    await eventually('after unshelving the remaining time runs out', async () => ((await auditOf(shelved.id)).some((a) => a.action === 'escalate') ? true : undefined));
    const trail = (await auditOf(shelved.id)).map((a) => a.action);
    assert.deepEqual(trail.filter((a) => a === 'shelve' || a === 'unshelve'), ['shelve', 'unshelve']);
  });

  test('a level that may not be shelved returns it at once (a second detector raised the level)', async () => {
    const first = await raise({ deviceId: 'leak-se', alarmType: 'water_leak', level: 3, addressId: 'FT-0006-0101' });
    assert.equal((await act(first.id, { action: 'shelve', note: '已知漏点', until: new Date(Date.now() + 3_600_000).toISOString() })).status, 200);
    const joined = await raise({ deviceId: 'leak-sf', alarmType: 'water_leak', level: 3, addressId: 'FT-0006-0101' });
    assert.equal(joined.id, first.id, 'the second detector joined the incident');
    assert.equal(joined.level, 2);
    assert.equal(joined.shelvedUntil, null, 'level 2 is not shelvable: back on the board');
    const row = (await auditOf(first.id)).find((a) => a.action === 'unshelve');
    assert.equal(row?.actor, 'system');
  });

  test('at the expiry the job returns it to the board (actor system) with a live update', async () => {
    const leak = await raise({ deviceId: 'leak-sd', alarmType: 'water_leak', level: 3, addressId: 'FT-0005-0101' });
    const socket: Socket = ioClient(cloud.httpUrl, { transports: ['websocket'], auth: { token: c01Token } });
    const seen: Incident[] = [];
    socket.on('incident', (i: Incident) => seen.push(i));
    try {
      await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));
      assert.equal((await act(leak.id, { action: 'shelve', note: '短时搁置', until: new Date(Date.now() + 800).toISOString() })).status, 200);
      await eventually('shelved, live', () => (seen.some((i) => i.id === leak.id && i.shelvedUntil !== null) ? true : undefined));
      await eventually('returned, live', () => (seen.some((i) => i.id === leak.id && i.shelvedUntil === null) ? true : undefined), 10_000);
    } finally {
      socket.close();
    }
    const row = (await auditOf(leak.id)).find((a) => a.action === 'unshelve');
    assert.equal(row?.actor, 'system');
    const board = (await call<{ incidents: Incident[] }>('GET', '/api/v1/incidents?board=true')).body.incidents.map((i) => i.id);
    assert.ok(board.includes(leak.id));
  });
});

describe('flood notice acknowledged with its members in one step', () => {
  test('members: true acknowledges every open member, one audit row each; refused on an incident that is no notice', async () => {
    const faults: Incident[] = [];
    for (let n = 1; n <= 4; n += 1) faults.push(await raise({ deviceId: `flt-${n}`, alarmType: 'fault', level: 3, addressId: 'FT-0001-0501' }));
    const noticeId = faults.at(-1)?.groupId;
    assert.ok(noticeId, 'the fourth fault folded into a notice');
    const members = (await call<{ incidents: Incident[] }>('GET', `/api/v1/incidents?groupId=${noticeId}`)).body.incidents;
    assert.equal(members.length, 4);
    const refused = await act(faults[0]!.id, { action: 'acknowledge', members: true });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error ?? '', /^members/);
    const done = await act(noticeId, { action: 'acknowledge', members: true, note: '批量确认' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'acknowledged');
    for (const m of members) {
      assert.equal((await call('GET', `/api/v1/incidents/${m.id}`)).body.status, 'acknowledged', `member ${m.deviceId}`);
      assert.equal((await auditOf(m.id)).filter((a) => a.action === 'acknowledge' && a.actor === 'c01.staff').length, 1);
    }
  });
});

describe('maintenance lane', () => {
  test('a fault goes to its unit’s queue, not the dispatch centre’s, on the maintenance deadline; a fire goes to both', async () => {
    const fault = await raise({ deviceId: 'flt-m', alarmType: 'fault', level: 3, addressId: 'FT-0003-0101' });
    assert.equal(fault.lane, 'maintenance');
    assert.equal(fault.unitId, 'grid-g03');
    assert.deepEqual((await messages(fault.id)).map((m) => m.consumer_id), [], 'neither the centre nor a consumer of another unit');
    const g01Fault = await raise({ deviceId: 'flt-m1', alarmType: 'tamper', level: 3, addressId: 'FT-0001-0203' });
    assert.deepEqual((await messages(g01Fault.id)).map((m) => m.consumer_id), ['g01-app'], 'only the unit’s own consumer');
    const secs = await cloud.store.query<{ secs: number }>("SELECT round(extract(epoch FROM due_at - started_at))::int AS secs FROM deadlines WHERE incident_id = $1 AND kind = 'ack'", [g01Fault.id]);
    assert.equal(secs[0]?.secs, 4 * 3600, 'maintenanceDeadlines.ackS');
    const fire = await raise({ deviceId: 'smoke-m', alarmType: 'smoke', level: 1, addressId: 'FT-0006-0101' });
    assert.deepEqual((await messages(fire.id)).map((m) => m.consumer_id).sort(), ['centre', 'g02-app']);
    const queue = (await call<{ incidents: Incident[] }>('GET', '/api/v1/incidents?lane=maintenance')).body.incidents.map((i) => i.id);
    assert.ok(queue.includes(g01Fault.id) && !queue.includes(fire.id));
  });
});

describe('deadlines on the rehearsal clock', () => {
  // A database of its own with no cloud and so no live ticker: only the scripted clock fires deadlines here.
  const past = Date.UTC(2026, 5, 1, 9, 0, 0);
  let scratch: TempDatabase;
  let store: PostgresStore;
  before(async () => {
    scratch = await createTempDatabase();
    store = await PostgresStore.open(scratch.url, () => {});
    await migrate(store);
    await new GatewayRegistry(store).addGateway(GW);
    await store.transaction(async (tx) => {
      await importAddressesCsv(tx, fixture('addresses.csv'));
      await importUnitsCsv(tx, fixture('units.csv'));
      await importRulesCsv(tx, fixture('rules.csv'));
    });
  });
  after(async () => {
    await store?.close();
    await scratch?.drop();
  });
  const ackDue = async (id: number): Promise<number> =>
    (await store.query<{ ms: string }>("SELECT (extract(epoch FROM due_at) * 1000)::bigint AS ms FROM deadlines WHERE incident_id = $1 AND kind = 'ack' ORDER BY id LIMIT 1", [id])).map((r) => Number(r.ms))[0] ?? 0;

  test('a raise on an injected clock gets the deadline of its own time; without it (live), of the arrival', async () => {
    const replayed = await raise({ deviceId: 'smoke-past', alarmType: 'smoke', level: 1, addressId: 'FT-0002-0101', edgeTime: past }, store, { ...DEFAULT_ENGINE, clock: () => past });
    assert.equal(await ackDue(replayed.id), past + 60_000);
    const before = Date.now();
    const live = await raise({ deviceId: 'smoke-held', alarmType: 'smoke', level: 1, addressId: 'FT-0004-0101', edgeTime: past }, store, DEFAULT_ENGINE);
    assert.ok((await ackDue(live.id)) >= before + 60_000 - 1000, 'an alarm held at the edge gets its full time from arrival');
  });

  test('a replayed day gives the same deadlines as live, and a missed one escalates at the scripted time', async () => {
    const script = { steps: [{ at: 5, device: 'smoke-replay', type: 'smoke', action: 'raise' as const, level: 1, address: 'FT-0005-0101' }], end: 6 };
    await playScript(store, script, { gateway: GW, engine: DEFAULT_ENGINE, startMs: past, speed: 0 });
    const rows = await store.query<{ id: string }>("SELECT id FROM incidents WHERE device_id = 'smoke-replay'");
    const id = Number(rows[0]?.id);
    assert.equal(await ackDue(id), past + 5000 + 60_000);
    // The ticker at a scripted instant: the escalated unit's deadline starts then, not at the wall clock.
    const fired = await fireDueDeadlines(store, DEFAULT_ENGINE, new Outcome(), 500, past + 70_000);
    assert.ok(fired.some((f) => f.incidentId === id && f.escalatedTo === 'community'), JSON.stringify(fired));
    const next = await store.query<{ ms: string }>(
      "SELECT (extract(epoch FROM due_at) * 1000)::bigint AS ms FROM deadlines WHERE incident_id = $1 AND kind = 'ack' AND fired_at IS NULL",
      [id],
    );
    assert.equal(Number(next[0]?.ms), past + 70_000 + 60_000);
  });
});
