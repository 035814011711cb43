// The served OpenAPI document is the API: every operation it lists is called with real requests
// against a running cloud (real MQTT alarm, telemetry and refused message behind the data), and
// every real answer must carry a documented status and a body that matches the documented schema
// with no undocumented field. A planted route shows the check failing both ways: a field the
// declaration does not list, and a route served without any declaration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import express from 'express';
import mqtt, { type MqttClient } from 'mqtt';
import { Kind, Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { SCHEMA_VERSION, encodeMessage, eventIdFor, topicFor } from '@gridwatch/protocol';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { ROUTES } from '../src/api/routes/index.ts';
import { mountRoutes, errorHandler } from '../src/api/mount.ts';
import { buildOpenApi, type OpenApiDocument } from '../src/api/openapi.ts';
import { routesFor, openApiPath, type Route } from '../src/api/route.ts';
import type { AccessDeps } from '../src/api/principal.ts';
import { ErrorBody } from '../src/api/schemas.ts';
import { linkKey } from '../src/notify/ack.ts';
import { issueLink } from '../src/notify/links.ts';
import { alarmEvent, eventsMessage, eventually } from './helpers.ts';

const ADMIN = 'admin-token-openapi';
const EMQX = 'emqx-secret-openapi';
const GW = { gatewayId: 'gw-doc-01', site: 'sz-doc', secret: 'doc-gateway-secret-01' };
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

let cloud: Cloud;
let gateway: MqttClient;

before(async () => {
  cloud = await startCloud({
    httpPort: 0,
    mqttPort: 0,
    dataDir: MEMORY_DATA_DIR,
    logLevel: 'silent',
    adminToken: ADMIN,
    emqxSecret: EMQX,
    ingestUsername: 'ingest-doc',
    ingestPassword: 'ingest-doc-password',
    webhookMaxAttempts: 1,
  });
  await cloud.gateways.addGateway(GW);
  await cloud.directory.addUser({ username: 'doc.admin', password: 'doc-admin-password', role: 'dispatcher', jurisdictions: ['*'] });
  gateway = await mqtt.connectAsync(cloud.mqttUrl, { username: GW.gatewayId, password: GW.secret, clientId: GW.gatewayId, reconnectPeriod: 0 }, false);
});

after(async () => {
  await gateway?.endAsync();
  await cloud?.stop();
});

interface Seen {
  method: string;
  template: string;
  status: number;
  body: unknown;
  type: string;
}

type Json = Record<string, unknown>;

/** Every object schema without its own additionalProperties rule made closed: an undocumented field is an error. */
function strict(schema: TSchema): TSchema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const copy: Json & { [Kind]?: string } = {};
    for (const key of Object.keys(node)) copy[key] = walk((node as Json)[key]);
    for (const symbol of Object.getOwnPropertySymbols(node)) (copy as Record<symbol, unknown>)[symbol] = (node as Record<symbol, unknown>)[symbol];
    if (copy[Kind] === 'Object' && copy.additionalProperties === undefined) copy.additionalProperties = false;
    return copy;
  };
  return walk(schema) as TSchema;
}

/** Problems of one answer against the served document and the declaration it was generated from. */
function checkAnswer<D>(doc: OpenApiDocument, routes: readonly Route<D>[], seen: Seen): string[] {
  const where = `${seen.method.toUpperCase()} ${seen.template} → ${seen.status}`;
  const operation = doc.paths[seen.template]?.[seen.method] as { responses: Record<string, { content?: Record<string, unknown> }> } | undefined;
  if (!operation) return [`${where}: not in the served document`];
  const documented = operation.responses[String(seen.status)];
  if (!documented) return [`${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
  const route = routes.find((r) => r.method === seen.method && openApiPath(r.path) === seen.template);
  if (!route) return [`${where}: documented but declared by no route`];
  const types = Object.keys(documented.content ?? {});
  if (types.length === 0) return seen.body === null ? [] : [`${where}: documented without a body, but one was sent`];
  if (!types.some((t) => seen.type.startsWith(t) || (t === 'text/plain' && seen.type.startsWith('text/')))) return [`${where}: content type ${seen.type} not documented (${types.join(', ')})`];
  if (!types.includes('application/json')) return [];
  const success = [route.ok, ...(route.also ?? [])].find((r) => r.status === seen.status);
  const schema = success ? success.schema : ErrorBody;
  if (!schema) return [`${where}: JSON documented without a schema`];
  const check = TypeCompiler.Compile(strict(schema));
  return [...check.Errors(seen.body)].slice(0, 5).map((e) => `${where}: ${e.path || '/'} ${e.message}${e.type === ValueErrorType.ObjectAdditionalProperties ? ' (undocumented field)' : ''}`);
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
}

/** Served (method path) pairs, from the express router. */
function served(app: express.Express): string[] {
  const walk = (stack: RouteLayer[]): string[] =>
    stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m} ${openApiPath(layer.route!.path)}`) : layer.handle?.stack ? walk(layer.handle.stack) : []));
  return walk((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
}

function undeclared(app: express.Express, doc: OpenApiDocument): string[] {
  return served(app)
    .filter((op) => {
      const [method, path] = op.split(' ') as [string, string];
      return !doc.paths[path]?.[method];
    })
    .map((op) => `${op}: served but not in the OpenAPI document`);
}

/** A client that remembers each answer under its route template. */
function client(base: string, log: Seen[]) {
  return async (method: 'get' | 'post', template: string, options: { params?: Record<string, string | number>; query?: string; body?: unknown; csv?: string; auth?: string; headers?: Record<string, string> } = {}): Promise<Seen> => {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => String(options.params?.[name]));
    const headers: Record<string, string> = { ...(options.auth ? { authorization: `Bearer ${options.auth}` } : {}), ...options.headers };
    let body: string | undefined;
    if (options.csv !== undefined) [headers['content-type'], body] = ['text/csv', options.csv];
    else if (options.body !== undefined) [headers['content-type'], body] = ['application/json', JSON.stringify(options.body)];
    const res = await fetch(`${base}${path}${options.query ? `?${options.query}` : ''}`, { method: method.toUpperCase(), headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const seen: Seen = { method, template, status: res.status, type, body: text === '' ? null : type.includes('json') ? (JSON.parse(text) as unknown) : text };
    log.push(seen);
    return seen;
  };
}

async function raiseAlarm(seq: number, overrides: Parameters<typeof alarmEvent>[2] = {}): Promise<number> {
  const event = alarmEvent(GW.gatewayId, seq, { addressId: 'FT-0001-0203', ...overrides });
  await gateway.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [event])), { qos: 1 });
  return eventually(`event ${event.id} stored`, async () => {
    const rows = await cloud.store.query<{ incident_id: string | null; test: boolean }>('SELECT incident_id, test FROM events WHERE event_id = $1', [eventIdFor(GW.gatewayId, seq)]);
    if (!rows[0]) return undefined;
    return rows[0].test ? 0 : rows[0].incident_id ? Number(rows[0].incident_id) : undefined;
  });
}

async function feedData(call: ReturnType<typeof client>): Promise<{ incidentId: number; key: string }> {
  for (const [template, file] of [
    ['/api/v1/addresses/import', 'addresses.csv'],
    ['/api/v1/units/import', 'units.csv'],
    ['/api/v1/routing-rules/import', 'rules.csv'],
  ] as const) {
    assert.equal((await call('post', template, { csv: fixture(file), auth: ADMIN })).status, 200, template);
  }
  await call('post', '/api/v1/units/import', { csv: 'id,name,type,tier,area\nu1,U,grid_worker,moon,M\n', auth: ADMIN });
  await call('post', '/api/v1/units/import', { csv: fixture('units.csv') });
  // Before the alarm: messages are queued for the consumers that exist when it is dispatched.
  const created = await call('post', '/api/v1/dispatch/consumers', { auth: ADMIN, body: { id: 'doc-centre', name: 'Doc centre', units: ['*'] } });
  await call('post', '/api/v1/dispatch/consumers', { auth: ADMIN, body: { id: 'doc-bad', name: 'Bad', units: [] } });
  await gateway.publishAsync(
    topicFor(GW, 'telemetry'),
    encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: GW.gatewayId, seq: 1, sentAt: Date.now(), readings: [{ deviceId: 'smoke-01', point: 'smoke_db_m', value: 0.21, t: Date.now() }] }),
    { qos: 1 },
  );
  await gateway.publishAsync(topicFor(GW, 'events'), '{"not":"an events message"}', { qos: 1 });
  const incidentId = await raiseAlarm(1);
  await raiseAlarm(2, { deviceId: 'smoke-02', test: true });
  await eventually('telemetry and the dead letter arrive', async () => (cloud.ingest.latest.size > 0 && (await cloud.store.query('SELECT 1 FROM dead_letters')).length > 0 ? true : undefined));
  return { incidentId, key: (created.body as { apiKey: string }).apiKey };
}

async function callConsumerRoutes(call: ReturnType<typeof client>, key: string): Promise<void> {
  await call('post', '/api/v1/dispatch/claim', { body: {} });
  // One at a time: the dispatch and the acknowledgement's update are queued; release puts one back.
  const claimed = await call('post', '/api/v1/dispatch/claim', { auth: key, body: { max: 1 } });
  const messages = (claimed.body as { messages: { id: number; leaseToken: string }[] }).messages;
  assert.equal(messages.length, 1, 'the alarm was queued for the consumer');
  const [first] = messages;
  const settle = (name: string, m: { id: number; leaseToken: string }, extra: object = {}) =>
    call('post', `/api/v1/dispatch/messages/{id}/${name}`, { auth: key, params: { id: m.id }, body: { leaseToken: m.leaseToken, ...extra } });
  await settle('ack', first!);
  await settle('ack', first!);
  for (const name of ['release', 'nack'] as const) {
    const leased = (await call('post', '/api/v1/dispatch/claim', { auth: key, body: { max: 1 } })).body as { messages: { id: number; leaseToken: string }[] };
    assert.equal(leased.messages.length, 1, `a message to ${name}`);
    await settle(name, leased.messages[0]!, name === 'nack' ? { error: 'doc test' } : {});
  }
  await call('post', '/api/v1/dispatch/messages/{id}/ack', { auth: key, params: { id: 999999 }, body: { leaseToken: 'x' } });
  await call('post', '/api/v1/dispatch/messages/{id}/ack', { auth: key, params: { id: 'abc' }, body: {} });
  await call('get', '/api/v1/dispatch/dead-letters', { auth: key });
  await call('get', '/api/v1/readings', { auth: key, query: `gatewayId=${GW.gatewayId}` });
  await call('get', '/api/v1/readings', { auth: key, query: 'gatewayId=a/b' });
}

/** Reassign (改派), shelve/unshelve (搁置) and the flood-group acknowledge, with their refusals (400, 409). */
async function callSideActions(call: ReturnType<typeof client>, incidentId: number, token: string): Promise<void> {
  const actions = '/api/v1/incidents/{id}/actions';
  const params = { id: incidentId };
  assert.equal((await call('post', actions, { params, auth: token, body: { action: 'reassign', unitId: 'grid-g02', note: 'doc handover' } })).status, 200);
  await call('post', actions, { params, auth: token, body: { action: 'reassign', note: 'no unit' } });
  await call('post', actions, { params, auth: token, body: { action: 'reassign', unitId: 'no-such-unit', note: 'doc' } });
  await call('post', actions, { params, auth: token, body: { action: 'shelve', note: 'level 2 stays annunciated', until: new Date(Date.now() + 3_600_000).toISOString() } });
  await call('post', actions, { params, auth: token, body: { action: 'acknowledge', members: true } });
  const leak = { id: await raiseAlarm(40, { deviceId: 'leak-doc', alarmType: 'water_leak', level: 3, addressId: 'FT-0004-0101' }) };
  assert.equal((await call('post', actions, { params: leak, auth: token, body: { action: 'shelve', note: 'doc', until: new Date(Date.now() + 3_600_000).toISOString() } })).status, 200);
  await call('post', actions, { params: leak, auth: token, body: { action: 'shelve', note: 'doc' } });
  assert.equal((await call('post', actions, { params: leak, auth: token, body: { action: 'unshelve' } })).status, 200);
}

async function callIncidentRoutes(call: ReturnType<typeof client>, incidentId: number, token: string): Promise<void> {
  const params = { id: incidentId };
  await call('get', '/api/v1/incidents');
  await call('get', '/api/v1/incidents', { query: 'deadlines=pending', auth: token });
  await call('get', '/api/v1/incidents', { query: 'limit=0' });
  await call('get', '/api/v1/incidents', { query: 'board=true&lane=maintenance' });
  await call('get', '/api/v1/incidents', { query: 'level=1,2&level=3&type=smoke&q=100%25_x&from=2026-01-01T00:00:00Z&to=2099-01-01T00:00:00Z&shelved=true', auth: token });
  await call('get', '/api/v1/incidents', { query: 'level=9' });
  await call('get', '/api/v1/handover', { auth: token });
  await call('get', '/api/v1/handover', { query: 'since=2026-01-01T00:00:00Z', auth: token });
  await call('get', '/api/v1/handover', { query: 'since=yesterday' });
  await call('get', '/api/v1/alarm-kpis');
  await call('get', '/api/v1/alarm-kpis/csv');
  await call('get', '/api/v1/alarm-kpis', { query: 'from=10&to=5' });
  await call('get', '/api/v1/incidents/{id}', { params });
  await call('get', '/api/v1/incidents/{id}', { params: { id: 999999 } });
  await call('get', '/api/v1/incidents/{id}/audit', { params });
  await call('get', '/api/v1/incidents/{id}/context', { params });
  await call('get', '/api/v1/incidents/{id}/cap', { params });
  await call('post', '/api/v1/incidents/{id}/actions', { params, auth: token, body: { action: 'acknowledge', note: 'doc' } });
  await callSideActions(call, incidentId, token);
  await call('post', '/api/v1/incidents/{id}/actions', { params, body: { action: 'acknowledge' } });
  await call('post', '/api/v1/incidents/{id}/actions', { params, body: { action: 'close', actor: 'doc' } });
  await call('get', '/api/v1/overview', { auth: token });
  const map = await call('get', '/api/v1/map', { auth: token });
  assert.ok((map.body as { features: { incidentId: number | null }[] }).features.some((f) => f.incidentId === incidentId), 'the alarm is on the map');
  await call('get', '/api/v1/test-events', { query: `gatewayId=${GW.gatewayId}` });
  await call('get', '/api/v1/test-events', { query: 'gatewayId=' });
}

async function callOtherRoutes(call: ReturnType<typeof client>): Promise<void> {
  const emqx = { 'x-gridwatch-emqx-secret': EMQX };
  await call('post', '/api/v1/emqx/auth', { headers: emqx, body: { clientid: GW.gatewayId, username: GW.gatewayId, password: GW.secret, peerhost: '10.0.0.5' } });
  await call('post', '/api/v1/emqx/auth', { body: { username: GW.gatewayId, password: GW.secret } });
  await call('post', '/api/v1/emqx/acl', { headers: emqx, body: { clientid: GW.gatewayId, username: GW.gatewayId, topic: topicFor(GW, 'events'), action: 'publish' } });
  await call('post', '/api/v1/emqx/acl', { headers: emqx, body: { username: GW.gatewayId, topic: 't', action: 'delete' } });
  const issued = await call('post', '/api/v1/enrollment-tokens', { auth: ADMIN, body: { gatewayId: 'gw-doc-02', site: 'sz-doc' } });
  await call('post', '/api/v1/enroll', { body: { token: (issued.body as { token: string }).token } });
  await call('post', '/api/v1/enroll', { body: { token: 'gwe_unknown' } });
  // Device placement (admin): allow a community, place a device, an unknown address (400), an unknown gateway (404).
  const placement = '/api/v1/gateways/{gatewayId}/placement';
  await call('post', placement, { auth: ADMIN, params: { gatewayId: 'gw-doc-02' }, body: { communities: ['FT-C01'], devices: [{ deviceId: 'doc-dev-1', addressId: 'FT-0001-0203' }] } });
  await call('post', placement, { auth: ADMIN, params: { gatewayId: 'gw-doc-02' }, body: { devices: [{ deviceId: 'doc-dev-2', addressId: 'NO-SUCH-ADDRESS' }] } });
  await call('post', placement, { auth: ADMIN, params: { gatewayId: 'gw-nobody' }, body: { communities: ['FT-C01'] } });
  await call('get', placement, { auth: ADMIN, params: { gatewayId: 'gw-doc-02' } });
  await call('get', placement, { auth: ADMIN, params: { gatewayId: 'gw-nobody' } });
  await call('get', placement, { params: { gatewayId: 'gw-doc-02' } });
  // Gateway lifecycle (admin): on the enrolled gw-doc-02, then an unknown id (404) and no token.
  for (const verb of ['rotate', 'disable', 'enable', 'remove']) {
    await call('post', `/api/v1/gateways/{gatewayId}/${verb}`, { auth: ADMIN, params: { gatewayId: 'gw-doc-02' } });
  }
  await call('post', '/api/v1/gateways/{gatewayId}/disable', { auth: ADMIN, params: { gatewayId: 'gw-nobody' } });
  await call('post', '/api/v1/gateways/{gatewayId}/rotate', { params: { gatewayId: 'gw-doc-02' } });
  const user = { username: 'doc.staff', password: 'doc-staff-password', role: 'grid_worker', jurisdictions: ['grid:FT-G01'] };
  await call('post', '/api/v1/users', { auth: ADMIN, body: user });
  await call('post', '/api/v1/users', { auth: ADMIN, body: { ...user, ifAbsent: true } });
  await call('post', '/api/v1/users', { auth: ADMIN, body: user });
  await call('get', '/api/v1/dead-letters', { auth: ADMIN });
  await call('get', '/api/v1/dead-letters');
  await call('get', '/api/v1/units');
  await call('get', '/api/v1/jurisdictions');
  await call('get', '/api/v1/catalogue');
  await call('get', '/healthz');
  await call('get', '/metrics');
  await call('get', '/api/v1/openapi.json');
  await call('post', '/api/v1/auth/logout', { auth: 'v1.not-a-session' });
}

test('every route of the served document answers as documented', async () => {
  const seen: Seen[] = [];
  const call = client(cloud.httpUrl, seen);
  const doc = (await call('get', '/api/v1/openapi.json')).body as OpenApiDocument;
  assert.deepEqual(doc, JSON.parse(JSON.stringify(buildOpenApi(ROUTES))), 'the served document is the one generated from the declarations');
  const { incidentId, key } = await feedData(call);
  const login = await call('post', '/api/v1/auth/login', { body: { username: 'doc.admin', password: 'doc-admin-password' } });
  await call('post', '/api/v1/auth/login', { body: { username: 'doc.admin', password: 'wrong-password' } });
  const token = (login.body as { token: string }).token;
  await call('get', '/api/v1/auth/me', { auth: token });
  await call('get', '/api/v1/auth/me');
  await callIncidentRoutes(call, incidentId, token);
  await callConsumerRoutes(call, key);
  await callOtherRoutes(call);
  const ackLink = await issueLink(cloud.store, await linkKey(cloud.store), { incidentId, personId: 'doc', channel: 'wecom', ttlMs: 60_000, now: Date.now() });
  await call('get', '/ack/{token}', { params: { token: ackLink } });
  await call('post', '/ack/{token}/{action}', { params: { token: ackLink, action: 'false_alarm' } });
  await call('post', '/api/v1/auth/logout', { auth: token });

  const problems = seen.flatMap((s) => checkAnswer(doc, ROUTES, s));
  assert.deepEqual(problems, [], problems.join('\n'));
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
  const answered = new Set(seen.filter((s) => s.status < 300).map((s) => `${s.method} ${s.template}`));
  assert.deepEqual(operations.filter((op) => !answered.has(op)), [], 'every documented operation was called and answered successfully: a new route needs a call in this test');
  assert.ok(seen.some((s) => s.status === 400) && seen.some((s) => s.status === 401) && seen.some((s) => s.status === 404) && seen.some((s) => s.status === 409));
  assert.deepEqual(undeclared(cloud.app, doc), [], 'every served route is declared');
});

test('the check fails on an undocumented field and on a route served without a declaration', async () => {
  const defineRoute = routesFor<AccessDeps>();
  const planted = defineRoute({
    method: 'get',
    path: '/api/v1/planted/:id',
    tag: 'test',
    summary: 'A route whose handler returns more than its declaration lists',
    access: 'public',
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    ok: { status: 200, description: 'OK', schema: Type.Object({ id: Type.Integer() }) },
    async handler({ params }) {
      // The extra field is what a handler returning a row unfiltered would leak.
      return { json: Object.assign({ id: params.id }, { secretHash: 'scrypt$…' }) };
    },
  });
  const app = express();
  const router = express.Router();
  mountRoutes(router, [planted], { store: cloud.store, sessions: undefined as never, config: { adminToken: null, openAccess: true, emqxSecret: null, httpHost: '127.0.0.1', metricsToken: null } });
  app.use(router);
  app.get('/api/v1/rogue', (_req, res) => void res.json({ hidden: true }));
  app.use(errorHandler({ error: () => undefined }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  try {
    const seen: Seen[] = [];
    const call = client(`http://127.0.0.1:${(server.address() as { port: number }).port}`, seen);
    const doc = buildOpenApi([planted]);
    await call('get', '/api/v1/planted/{id}', { params: { id: 7 } });
    await call('get', '/api/v1/planted/{id}', { params: { id: 'x' } });
    await call('get', '/api/v1/rogue');
    const problems = seen.flatMap((s) => checkAnswer(doc, [planted], s));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^GET \/api\/v1\/planted\/\{id\} → 200: \/secretHash .*\(undocumented field\)$/);
    assert.match(problems[1]!, /^GET \/api\/v1\/rogue → 200: not in the served document$/);
    assert.deepEqual(undeclared(app, doc), ['get /api/v1/rogue: served but not in the OpenAPI document']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
