// GET /api/v1/map against a running cloud with alarms raised over MQTT: each user sees the open
// incidents and devices of their own jurisdictions only, placed by the address book's coordinates;
// a handled incident leaves the map while its device stays; places without coordinates are left
// out. And the map.tiles setting: the forms it accepts, the ones it refuses, and the console's CSP
// admitting the tile server's origin (and nothing when none is configured).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { ConfigError, resolveConfig, startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { mapTileOrigin } from '../src/config.ts';
import type { MapData } from '../src/console/map-data.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const GW = { gatewayId: 'gw-map-api', site: 'sz-futian', secret: 'map-api-secret-01' };
// 天地图 vector tiles in Web Mercator (…_w); tk is the browser key of the operator's account.
const TIANDITU = 'https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=test-key';
const USERS = {
  grid: { username: 'map.g01', password: 'map-g01-password', role: 'grid_worker', jurisdictions: ['grid:FT-G01'] },
  c02: { username: 'map.c02', password: 'map-c02-password', role: 'community_staff', jurisdictions: ['community:FT-C02'] },
  all: { username: 'map.all', password: 'map-all-password', role: 'dispatcher', jurisdictions: ['*'] },
} as const;
type Who = keyof typeof USERS;

let cloud: Cloud;
let gateway: MqttClient;
const tokens = new Map<Who, string>();
let seq = 0;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent', openAccess: false, mapTiles: resolveConfig({ mapTiles: TIANDITU }).mapTiles });
  // One address of grid FT-G01 without coordinates: nowhere to draw it.
  await cloud.directory.importAddressesCsv(`${fixture('addresses.csv').trim()}\nFT-0099-0101,FT-B099,1,1,101,FT-G01,FT-C01,FT-S01,FT,,\n`);
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.directory.importRulesCsv(fixture('rules.csv'));
  for (const user of Object.values(USERS)) await cloud.directory.addUser({ ...user, jurisdictions: [...user.jurisdictions] });
  await cloud.gateways.addGateway(GW);
  gateway = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  for (const [who, user] of Object.entries(USERS) as [Who, (typeof USERS)[Who]][]) {
    const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    tokens.set(who, ((await res.json()) as { token: string }).token);
  }
});

after(async () => {
  await gateway?.endAsync();
  await cloud?.stop();
});

async function raise(deviceId: string, addressId: string, level: number): Promise<number> {
  const event = alarmEvent(GW.gatewayId, ++seq, { deviceId, addressId, level, edgeTime: Date.now() });
  await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });
  const row = await eventually(`incident of ${event.id}`, async () => (await cloud.store.query<{ id: string }>('SELECT id FROM incidents WHERE first_event_id = $1', [event.id]))[0]);
  return Number(row.id);
}

async function map(who: Who): Promise<MapData> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/map`, { headers: { authorization: `Bearer ${tokens.get(who)}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as MapData;
}

const ids = (data: MapData, kind: 'incident' | 'device'): string[] => data.features.filter((f) => f.kind === kind).map((f) => f.id).sort();

test('each user sees the open incidents and devices of their jurisdictions, at the address book’s coordinates', async () => {
  const a = await raise('smoke-a', 'FT-0001-0203', 1); // grid FT-G01, community FT-C01
  const b = await raise('smoke-b', 'FT-0003-0101', 2); // grid FT-G03, community FT-C02
  await raise('smoke-c', 'FT-0099-0101', 3); // grid FT-G01, no coordinates

  const grid = await map('grid');
  assert.deepEqual(ids(grid, 'incident'), [String(a)]);
  assert.deepEqual(ids(grid, 'device'), [`${GW.gatewayId}/smoke-a`], 'the device without coordinates is left out');
  const incident = grid.features.find((f) => f.kind === 'incident')!;
  assert.deepEqual({ lat: incident.lat, lon: incident.lon, level: incident.level, status: incident.status, incidentId: incident.incidentId }, { lat: 22.5431, lon: 114.0579, level: 1, status: 'dispatched', incidentId: a });
  const device = grid.features.find((f) => f.kind === 'device')!;
  assert.deepEqual({ level: device.level, incidentId: device.incidentId }, { level: 1, incidentId: a }, 'a device opens its open incident');
  assert.equal(grid.tiles?.url, TIANDITU);

  assert.deepEqual(ids(await map('c02'), 'incident'), [String(b)]);
  const all = await map('all');
  assert.equal(ids(all, 'incident').length, 2);
  assert.deepEqual(all.features.filter((f) => f.kind === 'incident').map((f) => f.level), [1, 2], 'most urgent first');

  assert.equal((await fetch(`${cloud.httpUrl}/api/v1/map`)).status, 401, 'no session, no map (openAccess off)');

  const handled = await fetch(`${cloud.httpUrl}/api/v1/incidents/${a}/actions`, { method: 'POST', headers: { authorization: `Bearer ${tokens.get('all')}`, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'false_alarm', note: 'map test' }) });
  assert.equal(handled.status, 200);
  const after = await map('grid');
  assert.deepEqual(ids(after, 'incident'), [], 'a handled incident leaves the map');
  const quiet = after.features.find((f) => f.kind === 'device')!;
  assert.deepEqual({ level: quiet.level, status: quiet.status, incidentId: quiet.incidentId }, { level: null, status: null, incidentId: null }, 'its device stays, quiet');
});

test('the console’s CSP admits the configured tile server for images, and only that', async () => {
  const csp = (await fetch(cloud.httpUrl)).headers.get('content-security-policy') ?? '';
  const imgSrc = /img-src ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
  assert.deepEqual(imgSrc, ["'self'", 'data:', 'https://t0.tianditu.gov.cn']);
  assert.equal(mapTileOrigin(null), null);
  assert.equal(mapTileOrigin({ url: '/tiles/{z}/{x}/{y}.png', attribution: '', maxZoom: 18 }), null, 'tiles on the cloud itself are self');
});

test('map.tiles: a URL template, JSON text or an object; refused with the field named otherwise', () => {
  const gaode = 'https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}';
  assert.equal(resolveConfig().mapTiles, null);
  assert.deepEqual(resolveConfig({ mapTiles: gaode }).mapTiles, { url: gaode, attribution: '', maxZoom: 18 });
  assert.deepEqual(resolveConfig({ mapTiles: JSON.stringify({ url: '/tiles/{z}/{x}/{y}.png', attribution: '© 本区', maxZoom: 19 }) }).mapTiles, { url: '/tiles/{z}/{x}/{y}.png', attribution: '© 本区', maxZoom: 19 });
  assert.deepEqual(resolveConfig({ mapTiles: { url: TIANDITU } }).mapTiles, { url: TIANDITU, attribution: '', maxZoom: 18 });
  const refused: [unknown, RegExp][] = [
    ['https://tiles.example/{z}/{x}.png', /^mapTiles\.url: expected a URL template with \{z\}, \{x\} and \{y\}$/],
    ['https://{s}.tiles.example/{z}/{x}/{y}.png', /^mapTiles\.url: \{s\} is not supported/],
    ['ftp://tiles.example/{z}/{x}/{y}.png', /^mapTiles\.url: expected an http\(s\) URL/],
    ['tiles/{z}/{x}/{y}.png', /^mapTiles\.url: expected an http\(s\) URL/],
    ['{"url": ', /^mapTiles: not JSON$/],
    [{ url: gaode, zoom: 3 }, /^mapTiles\.zoom: unknown key$/],
    [{ url: gaode, maxZoom: 30 }, /^mapTiles\.maxZoom: expected integer 1\.\.22/],
    [{ url: gaode, attribution: 5 }, /^mapTiles\.attribution: expected text$/],
    [[gaode], /^mapTiles: expected \{ url, attribution\?, maxZoom\? \}/],
  ];
  for (const [value, message] of refused) assert.throws(() => resolveConfig({ mapTiles: value }), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(value));
});
