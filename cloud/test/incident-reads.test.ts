// The reads of issue #13's work steps on real PostgreSQL: the board's filters (level, type, grid,
// search, history range, shelved) each alone and combined, always inside the caller's scope, with
// SQL and LIKE metacharacters taken literally; the shift handover figures against known rows; and
// server codes (reasonCode/noteCode with params) stored and served round trip.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCloud, type Cloud, type Incident } from '../src/index.ts';
import { shiftStart } from '../src/console/queries.ts';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { Outcome } from '../src/incidents/outcome.ts';
import { reasonOf } from '../src/incidents/reasons.ts';
import { gatewayOffline } from '../src/supervision/gateways.ts';
import { loadMigrations, migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';
import { alarmEvent, createTempDatabase, type TempDatabase } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const GW = { gatewayId: 'gw-reads', site: 'sz-reads', secret: 'reads-gateway-secret' };
const HOUR = 3_600_000;
const ADDRESSES = `address_id,address_text,place_name,building,unit,floor,room,contact_phone,grid,community,street,district,lat,lon
R-0001,福田区水贝路1号,老王拉面馆,R-B1,1,1,101,,FT-G01,FT-C01,FT-S01,FT,22.54,114.05
R-0002,福田区水贝路2号,100%纯净水店,R-B2,1,1,101,,FT-G01,FT-C01,FT-S01,FT,22.54,114.05
R-0003,福田区水贝路3号,A_B 便利店,R-B3,1,1,101,,FT-G02,FT-C01,FT-S01,FT,22.54,114.05
R-0004,福田区水贝路4号,O'Brien\\工作室,R-B4,1,1,101,,FT-G02,FT-C01,FT-S01,FT,22.54,114.05
R-0009,福田区水贝路9号,老王拉面馆二店,R-B9,1,1,101,,FT-G09,FT-C02,FT-S01,FT,22.54,114.05
`;

let db: TempDatabase;
let cloud: Cloud;
let worker: string;
let everyone: string;
const now = Date.now();
const ids: Record<string, number> = {};
const id = (key: string): number => {
  const value = ids[key];
  assert.ok(value !== undefined, key);
  return value;
};

interface Seed {
  key: string;
  address: string;
  level: number;
  type: string;
  status?: string;
  hoursAgo: number;
  open?: boolean;
}

/** Known rows: community FT-C01 (grids G01, G02) and one in FT-C02 that the worker must never see. */
const SEEDS: Seed[] = [
  { key: 'smoke1', address: 'R-0001', level: 1, type: 'smoke', hoursAgo: 1 },
  { key: 'gas2', address: 'R-0002', level: 2, type: 'gas', hoursAgo: 2 },
  { key: 'water3', address: 'R-0003', level: 3, type: 'water_leak', hoursAgo: 3 },
  { key: 'smoke2', address: 'R-0004', level: 2, type: 'smoke', hoursAgo: 30 },
  { key: 'old', address: 'R-0001', level: 1, type: 'smoke', status: 'closed', open: false, hoursAgo: 24 * 40 },
  { key: 'other', address: 'R-0009', level: 1, type: 'smoke', hoursAgo: 1 },
];

async function seed(s: Seed): Promise<number> {
  const rows = await cloud.store.query<{ id: string }>(
    `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, open, reason, first_event_id, raised_edge_time, raised_at,
       address_id, grid, community, street, district)
     SELECT $1, $2, $3, $4, $5, $6, $7, 'seeded', $3, to_timestamp($8::double precision / 1000), to_timestamp($8::double precision / 1000),
       a.address_id, a.grid, a.community, a.street, a.district FROM addresses a WHERE a.address_id = $9
     RETURNING id`,
    [GW.gatewayId, GW.site, `dev-${s.key}`, s.type, s.level, s.status ?? 'raised', s.open ?? true, now - s.hoursAgo * HOUR, s.address],
  );
  return Number(rows[0]?.id);
}

async function call<T>(path: string, token: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cloud.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

/** The seed keys a query returns to the worker, in the order served. */
async function keys(query: string, token = worker): Promise<string[]> {
  const res = await call<{ incidents: Incident[] }>(`/api/v1/incidents?${query}`, token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const byId = new Map(Object.entries(ids).map(([k, id]) => [id, k]));
  return res.body.incidents.map((i) => byId.get(i.id) ?? `#${i.id}`);
}

before(async () => {
  db = await createTempDatabase();
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, databaseUrl: db.url, logLevel: 'silent', openAccess: false });
  await cloud.gateways.addGateway(GW);
  await cloud.directory.importAddressesCsv(ADDRESSES);
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.directory.importRulesCsv(fixture('rules.csv'));
  await cloud.directory.addUser({ username: 'worker.c01', password: 'worker-password', role: 'community_staff', jurisdictions: ['community:FT-C01'] });
  await cloud.directory.addUser({ username: 'duty.all', password: 'duty-password', role: 'dispatcher', jurisdictions: ['*'] });
  for (const s of SEEDS) ids[s.key] = await seed(s);
  worker = await login('worker.c01', 'worker-password');
  everyone = await login('duty.all', 'duty-password');
});

after(async () => {
  await cloud?.stop();
  await db?.drop();
});

test('each filter alone: level (comma list or repeated), type, grid, search, history range, shelved', async () => {
  assert.deepEqual(await keys(''), ['smoke1', 'gas2', 'water3', 'smoke2', 'old']);
  assert.deepEqual(await keys('level=1'), ['smoke1', 'old']);
  assert.deepEqual(await keys('level=1,2'), ['smoke1', 'gas2', 'smoke2', 'old']);
  assert.deepEqual(await keys('level=2&level=3'), ['gas2', 'water3', 'smoke2']);
  assert.deepEqual(await keys('type=smoke'), ['smoke1', 'smoke2', 'old']);
  assert.deepEqual(await keys('grid=FT-G02'), ['water3', 'smoke2']);
  assert.deepEqual(await keys(`q=${encodeURIComponent('水贝路2号')}`), ['gas2'], 'text address');
  assert.deepEqual(await keys(`q=${encodeURIComponent('拉面')}`), ['smoke1', 'old'], 'place name');
  assert.deepEqual(await keys('q=DEV-WATER'), ['water3'], 'device id, case-insensitive');
  const from = new Date(now - 26 * HOUR).toISOString();
  const to = new Date(now - 90 * 60_000).toISOString();
  assert.deepEqual(await keys(`from=${from}&to=${to}`), ['gas2', 'water3'], 'raised_at in [from, to)');
  const history = new Date(now - 41 * 24 * HOUR).toISOString();
  assert.deepEqual(await keys(`from=${history}&to=${new Date(now - 39 * 24 * HOUR).toISOString()}`), ['old'], 'the history view includes closed incidents');
  assert.deepEqual(await keys('shelved=true'), []);
  await cloud.store.query("UPDATE incidents SET shelved_until = now() + interval '1 hour', shelved_reason = 'test' WHERE id = $1", [id('gas2')]);
  assert.deepEqual(await keys('shelved=true'), ['gas2']);
  await cloud.store.query('UPDATE incidents SET shelved_until = NULL WHERE id = $1', [id('gas2')]);
});

test('search finds an incident by any member: a joined device id or its address, not only the first', async () => {
  const joined = id('smoke2');
  await cloud.store.query(
    `UPDATE incidents SET members = members || $2::text::jsonb WHERE id = $1`,
    [joined, JSON.stringify([{ gatewayId: GW.gatewayId, deviceId: 'dev-joined-7', alarmType: 'smoke', addressId: 'R-0003' }])],
  );
  await cloud.store.query('INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type) VALUES ($1, $2, $3, $4)', [joined, GW.gatewayId, 'dev-joined-7', 'smoke']);
  try {
    assert.deepEqual(await keys('q=DEV-JOINED-7'), ['smoke2'], 'a joined device id');
    assert.deepEqual(await keys(`q=${encodeURIComponent('A_B 便利店')}`), ['water3', 'smoke2'], 'a joined member’s place name');
    assert.deepEqual(await keys('q=dev-joined-8'), [], 'nothing else matches');
  } finally {
    await cloud.store.query('DELETE FROM incident_sources WHERE incident_id = $1 AND device_id = $2', [joined, 'dev-joined-7']);
    await cloud.store.query(`UPDATE incidents SET members = '[]'::jsonb WHERE id = $1`, [joined]);
  }
});

test('filters combine with AND', async () => {
  assert.deepEqual(await keys('level=1,2&type=smoke'), ['smoke1', 'smoke2', 'old']);
  assert.deepEqual(await keys('level=1,2&type=smoke&grid=FT-G02'), ['smoke2']);
  assert.deepEqual(await keys(`type=smoke&q=${encodeURIComponent('拉面')}&status=raised`), ['smoke1']);
  assert.deepEqual(await keys(`grid=FT-G01&from=${new Date(now - 5 * HOUR).toISOString()}`), ['smoke1', 'gas2']);
  assert.deepEqual(await keys('level=5&type=smoke'), []);
});

test('scope holds under every filter: another community’s incident never appears', async () => {
  const probes = ['', 'level=1', 'type=smoke', 'grid=FT-G09', `q=${encodeURIComponent('拉面馆二店')}`, 'q=dev-other', `from=${new Date(now - 2 * HOUR).toISOString()}`];
  for (const probe of probes) assert.ok(!(await keys(probe)).includes('other'), probe);
  assert.deepEqual(await keys('grid=FT-G09', everyone), ['other'], 'a user of every area sees it');
  assert.deepEqual(await keys(`q=${encodeURIComponent('拉面')}`, everyone), ['other', 'smoke1', 'old'], 'same raised_at: the newer id first');
});

test('search text is literal: %, _, quotes, backslashes and SQL are data, never pattern or code', async () => {
  assert.deepEqual(await keys(`q=${encodeURIComponent('100%')}`), ['gas2'], '% is a percent sign');
  assert.deepEqual(await keys(`q=${encodeURIComponent('%')}`), ['gas2'], 'a lone % matches only a literal %');
  assert.deepEqual(await keys(`q=${encodeURIComponent('A_B')}`), ['water3']);
  assert.deepEqual(await keys(`q=${encodeURIComponent('_')}`), ['water3'], 'a lone _ matches only a literal _ (it would match everything as a wildcard)');
  assert.deepEqual(await keys(`q=${encodeURIComponent("O'Brien\\")}`), ['smoke2'], 'quote and backslash');
  assert.deepEqual(await keys(`q=${encodeURIComponent('\\')}`), ['smoke2']);
  assert.deepEqual(await keys(`q=${encodeURIComponent("'; DROP TABLE incidents; --")}`), []);
  assert.deepEqual(await keys(`q=${encodeURIComponent("x' OR '1'='1")}`), []);
  assert.equal((await keys('')).length, 5, 'the table is still there');
  // Switched off: the same text used as a raw pattern is a wildcard and matches every place.
  const raw = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM addresses WHERE place_name ILIKE '%' || $1 || '%'", ['_']);
  assert.equal(raw[0]?.n, 5, 'unescaped, _ matches all five places');
});

test('bad filter values are refused with the field named', async () => {
  for (const [query, field] of [['level=0', 'level'], ['level=1,,2', 'level'], ['type=Smoke!', 'type'], ['from=yesterday', 'from'], ['shelved=yes', 'shelved']]) {
    const res = await call<{ error: string }>(`/api/v1/incidents?${query}`, worker);
    assert.equal(res.status, 400, query);
    assert.match(res.body.error, new RegExp(`^query/${field}|^${field}`), query);
  }
});

test('shift starts: 08:00 and 20:00 Asia/Shanghai by default, any list and zone when configured', () => {
  const shanghai = { starts: ['08:00', '20:00'], timeZone: 'Asia/Shanghai' };
  assert.equal(shiftStart(Date.parse('2026-12-01T03:00:00Z'), shanghai), Date.parse('2026-12-01T00:00:00Z'), '11:00 → 08:00 the same day');
  assert.equal(shiftStart(Date.parse('2026-12-01T13:30:00Z'), shanghai), Date.parse('2026-12-01T12:00:00Z'), '21:30 → 20:00');
  assert.equal(shiftStart(Date.parse('2026-12-01T23:00:00Z'), shanghai), Date.parse('2026-12-01T12:00:00Z'), '07:00 → 20:00 the day before');
  assert.equal(shiftStart(Date.parse('2026-12-01T12:00:00Z'), shanghai), Date.parse('2026-12-01T12:00:00Z'), 'a shift starts at its start');
  const berlin = { starts: ['07:30'], timeZone: 'Europe/Berlin' };
  assert.equal(shiftStart(Date.parse('2026-07-01T05:00:00Z'), berlin), Date.parse('2026-06-30T05:30:00Z'), 'summer time: 07:30 CEST = 05:30Z');
  assert.equal(shiftStart(Date.parse('2026-12-01T07:00:00Z'), berlin), Date.parse('2026-12-01T06:30:00Z'), 'winter time: 07:30 CET = 06:30Z');
});

test('handover: open, overdue and the figures since the shift began, in the caller’s scope', async () => {
  const since = now - 5 * HOUR;
  const audit = async (key: string, action: string, hoursAgo: number): Promise<void> => {
    await cloud.store.query(
      `INSERT INTO incident_audit (incident_id, actor, source, action, note, at) VALUES ($1, 'worker.c01', 'test', $2, '', to_timestamp($3::double precision / 1000))`,
      [id(key), action, now - hoursAgo * HOUR],
    );
  };
  await audit('water3', 'resolve', 1);
  await audit('smoke2', 'false_alarm', 2);
  await audit('smoke1', 'escalate', 0.5);
  await audit('smoke1', 'escalate', 0.4);
  await audit('smoke2', 'resolve', 20);
  await audit('other', 'resolve', 1);
  await cloud.store.query("UPDATE incidents SET status = 'resolved', open = false WHERE id = $1", [id('water3')]);
  await cloud.store.query("UPDATE incidents SET status = 'false_alarm', open = false WHERE id = $1", [id('smoke2')]);
  const deadline = (key: string, sql: string): Promise<unknown> =>
    cloud.store.query(`INSERT INTO deadlines (incident_id, kind, tier, due_at, fired_at, paused_at) VALUES ($1, 'ack', 'grid', ${sql})`, [id(key)]);
  await deadline('smoke1', "now() - interval '1 hour', now() - interval '1 hour', NULL");
  await deadline('gas2', "now() - interval '1 minute', NULL, now() - interval '2 minutes'");
  await deadline('other', "now() - interval '1 hour', NULL, NULL");
  // A flood notice groups alarms counted already: not one more raised alarm.
  await cloud.store.query(
    `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, level, status, open, reason, first_event_id, raised_edge_time, raised_at, community, street, district, group_id)
     VALUES ('flood', $1, $2, 'community:FT-C01', 'alarm_flood', 1, 'resolved', false, 'flood', 'flood-1', now(), now() - interval '1 hour', 'FT-C01', 'FT-S01', 'FT', NULL)`,
    [GW.gatewayId, GW.site],
  );

  const res = await call<{
    since: string;
    open: Incident[];
    overdue: Incident[];
    happened: { raised: number; resolved: number; falseAlarms: number; escalations: number; byType: { type: string; count: number }[] };
    audit: { incidentId: number; action: string; at: number }[];
  }>(`/api/v1/handover?since=${new Date(since).toISOString()}`, worker);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const h = res.body;
  assert.equal(h.since, new Date(since).toISOString());
  assert.deepEqual(h.open.map((i) => i.id), [ids.smoke1, ids.gas2]);
  assert.deepEqual(h.overdue.map((i) => i.id), [ids.smoke1], 'a fired deadline is overdue; a paused (shelved) one is not; another community’s never');
  assert.deepEqual(h.happened, { raised: 3, resolved: 1, falseAlarms: 1, escalations: 2, byType: [{ type: 'gas', count: 1 }, { type: 'smoke', count: 1 }, { type: 'water_leak', count: 1 }] });
  assert.deepEqual(h.audit.map((a) => [a.incidentId, a.action]), [[ids.smoke1, 'escalate'], [ids.smoke1, 'escalate'], [ids.water3, 'resolve'], [ids.smoke2, 'false_alarm']]);
  assert.ok(h.audit.every((a, i) => i === 0 || (h.audit[i - 1] as { at: number }).at >= a.at), 'newest first');

  const all = (await call<typeof h>(`/api/v1/handover?since=${new Date(since).toISOString()}`, everyone)).body;
  assert.equal(all.happened.raised, 4);
  assert.equal(all.happened.resolved, 2);
  assert.deepEqual(all.overdue.map((i) => i.id).sort(), [ids.smoke1, ids.other].sort());

  const byDefault = (await call<typeof h>('/api/v1/handover', worker)).body;
  const expected = shiftStart(Date.now(), { starts: ['08:00', '20:00'], timeZone: 'Asia/Shanghai' });
  assert.equal(byDefault.since, new Date(expected).toISOString(), 'default: the latest 08:00/20:00 Asia/Shanghai');
  assert.equal((await call('/api/v1/handover?since=soon', worker)).status, 400);
});

test('server codes round trip: reasons and system notes are stored as code + params and served with the English text', async () => {
  const event = alarmEvent(GW.gatewayId, 1, { deviceId: 'dev-codes', alarmType: 'smoke', level: 1, reason: 'Smoke detector in alarm', addressId: 'R-0001' });
  await cloud.store.transaction((tx) => applyEvents(tx, GW, [event], DEFAULT_ENGINE, new Outcome()));
  const list = (await call<{ incidents: Incident[] }>('/api/v1/incidents?q=dev-codes', everyone)).body.incidents;
  const incident = list[0] as Incident;
  assert.deepEqual({ reason: incident.reason, code: incident.reasonCode, params: incident.reasonParams }, { reason: 'Smoke detector in alarm', code: 'device_alarm', params: { alarmType: 'smoke', text: 'Smoke detector in alarm' } });
  const trail = (await call<{ audit: { action: string; note: string; noteCode: string | null; noteParams: Record<string, unknown> }[] }>(`/api/v1/incidents/${incident.id}/audit`, everyone)).body.audit;
  const raise = trail.find((a) => a.action === 'raise');
  assert.deepEqual(raise && { code: raise.noteCode, params: raise.noteParams }, { code: 'device_alarm', params: { alarmType: 'smoke', text: 'Smoke detector in alarm' } });
  for (const a of trail) assert.ok(a.noteCode !== null, `${a.action}: system rows carry a code (${a.note})`);

  const offline = await cloud.store.transaction((tx) => gatewayOffline(tx, GW, reasonOf('gateway_offline', { secs: 90, holdOffS: 60 }), DEFAULT_ENGINE, new Outcome()));
  assert.ok(offline);
  const served = (await call<Incident>(`/api/v1/incidents/${offline.id}`, everyone)).body;
  assert.deepEqual([served.reason, served.reasonCode, served.reasonParams], ['gateway offline for 90 s (hold-off 60 s)', 'gateway_offline', { secs: 90, holdOffS: 60 }]);

  // A row written without a code (before migration 012, or by an older INSERT) reads as its text.
  const legacy = (await cloud.store.query<{ id: string }>(
    `INSERT INTO incidents (gateway_id, site, device_id, alarm_type, level, status, reason, first_event_id, raised_edge_time)
     VALUES ($1, $2, 'dev-legacy', 'smoke', 3, 'raised', 'an old sentence', 'dev-legacy', now()) RETURNING id`,
    [GW.gatewayId, GW.site],
  ))[0];
  const old = (await call<Incident>(`/api/v1/incidents/${Number(legacy?.id)}`, everyone)).body;
  assert.deepEqual([old.reasonCode, old.reasonParams], ['text', { text: 'an old sentence' }]);

  const note = await fetch(`${cloud.httpUrl}/api/v1/incidents/${incident.id}/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${everyone}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'note', note: '已电话联系业主' }),
  });
  assert.equal(note.status, 200);
  const mine = (await call<{ audit: { action: string; note: string; noteCode: string | null; noteParams: Record<string, unknown> }[] }>(`/api/v1/incidents/${incident.id}/audit`, everyone)).body.audit.at(-1);
  assert.deepEqual(mine && [mine.note, mine.noteCode, mine.noteParams], ['已电话联系业主', null, {}], 'a person’s words carry no code');
});

test('migration 012 gives rows raised before it a code: a device’s reason its alarm type and text, others their text', async () => {
  const store = await PgliteStore.open('memory://');
  try {
    const all = await loadMigrations();
    await migrate(store, all.filter((m) => m.version < 12));
    await store.query("INSERT INTO gateways (id, site, secret_hash) VALUES ('gw-old', 'old', 'x')");
    for (const [kind, device, reason] of [['device', 'd1', 'Smoke detector in alarm'], ['gateway', '_gateway', 'gateway offline for 70 s (hold-off 60 s)']] as const) {
      await store.query(
        `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, level, status, reason, first_event_id, raised_edge_time) VALUES ($1, 'gw-old', 'old', $2, 'smoke', 1, 'raised', $3, $2, now())`,
        [kind, device, reason],
      );
    }
    await migrate(store, all);
    const rows = await store.query<{ kind: string; reason_code: string; reason_params: Record<string, unknown> }>('SELECT kind, reason_code, reason_params FROM incidents ORDER BY id');
    assert.deepEqual(rows.map((r) => [r.kind, r.reason_code, r.reason_params]), [
      ['device', 'device_alarm', { alarmType: 'smoke', text: 'Smoke detector in alarm' }],
      ['gateway', 'text', { text: 'gateway offline for 70 s (hold-off 60 s)' }],
    ]);
  } finally {
    await store.close();
  }
});
