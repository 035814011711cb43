// Attack: cross-jurisdiction reads and writes on every route the served OpenAPI document lists (a
// new route is attacked without editing this file), and forged session tokens on the same routes.
// A community-A staff member's session calls each operation with community B's identifiers in the
// path and body (an incident id, address, device, gateway, community). Accepted = a 2xx answer
// that names anything of B, or B's incident changed afterwards. Forged tokens (made up, tampered
// payload, foreign key, expired, logged out) are accepted when any non-public route answers 2xx.
// Planted regressions: the same calls with a session whose scope is everything ('*'), and a forged
// payload signed with the server's own key (the HMAC check is then the only thing missing), are
// accepted — so these cases can fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { loadSessionKey } from '../../cloud/src/auth/session.ts';
import { startCloud, type Cloud } from '../../cloud/src/index.ts';
import { alarmEvent, connectGateway, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { Tally } from './support.ts';

const ADMIN = 'jurisdiction-admin-token';
const ADDRESSES = `address_id,building,grid,community,street,district
JA-0001,JA-B1,JA-G1,JUR-A,JUR-SA,JUR
JB-0001,JB-B1,JB-G1,JUR-B,JUR-SB,JUR
`;
const GW_A = { gatewayId: 'gw-jur-a', site: 'site-jur', secret: 'jurisdiction-secret-a' };
const GW_B = { gatewayId: 'gw-jur-b', site: 'site-jur', secret: 'jurisdiction-secret-b' };
const STAFF_A = { username: 'staff.jur-a', password: 'staff-jur-a-password', role: 'dispatcher', jurisdictions: ['community:JUR-A'] };
const EVERYWHERE = { username: 'staff.jur-all', password: 'staff-jur-all-password', role: 'dispatcher', jurisdictions: ['*'] };
/** Anything of community B in an answer is a leak. */
const B_MARKERS = ['JB-0001', 'JB-B1', 'JUR-B', 'JUR-SB', 'smoke-jurb', GW_B.gatewayId];
/** Would end the attacker's own session midway, or is how sessions start. */
const SKIP = new Set(['post /api/v1/auth/logout', 'post /api/v1/auth/login']);

let cloud: Cloud;
let incidentB: number;
let incidentA: number;

interface Operation {
  method: string;
  path: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[]; const?: unknown; anyOf?: Schema[]; items?: Schema; $ref?: string; minItems?: number };

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false, adminToken: ADMIN });
  await cloud.directory.importAddressesCsv(ADDRESSES);
  await cloud.directory.addUser(STAFF_A);
  await cloud.directory.addUser(EVERYWHERE);
  for (const [gw, addressId, deviceId] of [[GW_A, 'JA-0001', 'smoke-jura'], [GW_B, 'JB-0001', 'smoke-jurb']] as const) {
    await cloud.gateways.addGateway(gw);
    const client = await connectGateway(cloud.mqttUrl, gw.gatewayId, gw.secret);
    await client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', eventsMessage(gw.gatewayId, [alarmEvent(gw.gatewayId, 1, { addressId, deviceId, level: 1 })])), { qos: 1 });
    await client.endAsync();
  }
  const ids = await eventually('both incidents', async () => {
    const rows = await cloud.store.query<{ id: string; community: string }>("SELECT id, community FROM incidents WHERE community IN ('JUR-A', 'JUR-B')");
    return rows.length === 2 ? rows : undefined;
  });
  incidentA = Number(ids.find((r) => r.community === 'JUR-A')?.id);
  incidentB = Number(ids.find((r) => r.community === 'JUR-B')?.id);
});

after(async () => {
  await cloud?.stop();
});

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

async function operations(): Promise<Operation[]> {
  const doc = (await (await fetch(`${cloud.httpUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>; components: { schemas: Record<string, Schema> } };
  schemas = doc.components.schemas;
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ ...op, method, path })));
}
let schemas: Record<string, Schema> = {};

/** B's value for an identifier-like name, else a plausible one. */
function valueFor(name: string, schema: Schema, depth = 0): unknown {
  const s = schema.$ref ? (schemas[schema.$ref.split('/').pop() as string] ?? {}) : schema;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  if (s.anyOf) return valueFor(name, s.anyOf.find((a) => a.type !== 'null') ?? {}, depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (/incident/i.test(name)) return type === 'string' ? String(incidentB) : incidentB;
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return depth > 3 ? [] : [valueFor(name, s.items ?? {}, depth + 1)];
  if (type === 'object' || s.properties) {
    if (depth > 3) return {};
    return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valueFor(k, v, depth + 1)]));
  }
  if (/address/i.test(name)) return 'JB-0001';
  if (/device/i.test(name)) return 'smoke-jurb';
  if (/gateway/i.test(name)) return GW_B.gatewayId;
  if (/community/i.test(name)) return 'JUR-B';
  if (/street/i.test(name)) return 'JUR-SB';
  return 'jur-probe';
}

function urlOf(op: Operation): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    // `{id}` under /incidents is an incident id; elsewhere the name says what it is.
    if (name === 'id' && op.path.startsWith('/api/v1/incidents/')) return String(incidentB);
    return encodeURIComponent(String(valueFor(name, { type: name === 'id' ? 'integer' : 'string' })));
  });
}

async function call(op: Operation, token: string): Promise<{ status: number; text: string }> {
  const json = op.requestBody?.content?.['application/json']?.schema;
  const body = op.requestBody?.content?.['text/csv'] ? 'address_id\nJB-0001\n' : json ? JSON.stringify(valueFor('body', json)) : undefined;
  const contentType = op.requestBody?.content?.['text/csv'] ? 'text/csv' : 'application/json';
  const res = await fetch(`${cloud.httpUrl}${urlOf(op)}`, {
    method: op.method.toUpperCase(),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body }),
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text() };
}

async function stateOfB(): Promise<string> {
  const rows = await cloud.store.query<{ status: string; n: number }>('SELECT i.status, (SELECT count(*)::int FROM incident_audit a WHERE a.incident_id = i.id AND a.actor LIKE $2) AS n FROM incidents i WHERE i.id = $1', [incidentB, '%staff.jur%']);
  const inB = await cloud.store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE community = 'JUR-B'");
  return JSON.stringify([rows[0], inB[0]?.n]);
}

/** Every non-public operation with this token; accepted = a 2xx naming B, or B changed. */
async function attackEveryRoute(token: string): Promise<Tally> {
  const tally = new Tally();
  const before = await stateOfB();
  for (const op of await operations()) {
    if (!op.security || SKIP.has(`${op.method} ${op.path}`)) continue;
    const res = await call(op, token);
    const ok = res.status >= 200 && res.status < 300;
    tally.record(`${op.method.toUpperCase()} ${op.path}`, ok && B_MARKERS.some((m) => res.text.includes(m)));
  }
  tally.record("B's incident changed", (await stateOfB()) !== before);
  return tally;
}

test('cross-jurisdiction: community A staff reach nothing of community B on any documented route', async () => {
  const tally = await attackEveryRoute(await login(STAFF_A.username, STAFF_A.password));
  assert.ok(Object.keys(tally.summary()).length >= 20, `only ${Object.keys(tally.summary()).length} operations attacked`);
  tally.assertNoneAccepted();
  // The session works within A: the case is not passing because every call failed.
  const own = await fetch(`${cloud.httpUrl}/api/v1/incidents/${incidentA}`, { headers: { authorization: `Bearer ${await login(STAFF_A.username, STAFF_A.password)}` } });
  assert.equal(own.status, 200);
});

test('planted regression: a session scoped everywhere (the scope check off) reaches B on the same routes', async () => {
  const summary = (await attackEveryRoute(await login(EVERYWHERE.username, EVERYWHERE.password))).summary();
  for (const attack of ['GET /api/v1/incidents', 'GET /api/v1/incidents/{id}']) {
    assert.ok((summary[attack]?.accepted ?? 0) > 0, `${attack} should leak with the scope off: ${JSON.stringify(summary)}`);
  }
});

function forge(payload: object, key: Buffer | string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${createHmac('sha256', key).update(`v1.${body}`).digest('base64url')}`;
}

/**
 * Non-public GET routes without path parameters that refuse a caller without credentials (on
 * loopback /metrics answers anyone, by design): what a forged token would read first.
 */
async function forgeryTargets(): Promise<Operation[]> {
  const out: Operation[] = [];
  for (const op of await operations()) {
    if (!op.security || op.method !== 'get' || op.path.includes('{')) continue;
    if ((await fetch(`${cloud.httpUrl}${op.path}`)).status === 401) out.push(op);
  }
  return out;
}

async function forgedAccepted(token: string): Promise<number> {
  let accepted = 0;
  for (const op of await forgeryTargets()) if ((await call(op, token)).status < 300) accepted += 1;
  return accepted;
}

test('token forgery: made-up, tampered, foreign-key, expired and logged-out tokens open no route', async () => {
  const real = await login(STAFF_A.username, STAFF_A.password);
  const [, payload, signature] = real.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u: string; e: number; x: number };
  const epoch = (await cloud.store.query<{ session_epoch: number }>('SELECT session_epoch FROM users WHERE username = $1', [EVERYWHERE.username]))[0]?.session_epoch;
  const key = await loadSessionKey(cloud.store, null);
  const tampered = Buffer.from(JSON.stringify({ ...claims, u: EVERYWHERE.username, e: epoch })).toString('base64url');
  const forged: Record<string, string> = {
    'made up': 'v1.eyJ1IjoiYWRtaW4ifQ.AAAA',
    'tampered payload, old signature': `v1.${tampered}.${signature}`,
    'signed with another key': forge({ u: EVERYWHERE.username, e: epoch, x: Date.now() + 3600_000 }, 'not-the-server-key-0123456789abcdef'),
    'expired (right key)': forge({ ...claims, x: Date.now() - 1000 }, key),
    'consumer key shape': 'gwd_forged_consumer_key_000000000000',
    'admin token guess': 'admin',
  };
  const loggedOut = await login(STAFF_A.username, STAFF_A.password);
  assert.equal((await fetch(`${cloud.httpUrl}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${loggedOut}` } })).status, 204);
  forged['logged out'] = loggedOut;
  const tally = new Tally();
  const targets = await forgeryTargets();
  assert.ok(targets.length >= 5, `enough routes to try: ${targets.map((t) => t.path).join(', ')}`);
  for (const [kind, token] of Object.entries(forged)) {
    for (const op of targets) tally.record(`${kind} token`, (await call(op, token)).status < 300);
  }
  tally.assertNoneAccepted();
});

test('planted regression: the tampered payload re-signed with the server key (no HMAC check) is accepted', async () => {
  const epoch = (await cloud.store.query<{ session_epoch: number }>('SELECT session_epoch FROM users WHERE username = $1', [EVERYWHERE.username]))[0]?.session_epoch;
  const token = forge({ u: EVERYWHERE.username, e: epoch, x: Date.now() + 3600_000 }, await loadSessionKey(cloud.store, null));
  assert.ok((await forgedAccepted(token)) > 0, 'a validly signed forged payload reads routes: the signature is what stops the forgery');
});
