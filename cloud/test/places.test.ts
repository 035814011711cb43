// Readable places: the address book's text address, place name, floor/room and contact phone, and
// jurisdiction names, imported from CSV (old files without the new columns still import) and
// carried by the incidents the API returns, with the responsible unit's name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCloud, MEMORY_DATA_DIR, type Cloud, type Incident } from '../src/index.ts';
import { CsvError } from '../src/routing/csv.ts';
import { getAddress, importAddressesCsv, importJurisdictionsCsv, importRulesCsv, importUnitsCsv, jurisdictionName, listJurisdictions } from '../src/routing/directory.ts';
import { migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';
import { alarmEvent, connectGateway, eventsMessage, eventually } from './helpers.ts';
import { topicFor, encodeMessage } from '@gridwatch/protocol';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const GW = { gatewayId: 'gw-places', site: 'lh-dongxiao', secret: 'places-gateway-secret' };
let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent' });
  await cloud.gateways.addGateway(GW);
  await cloud.directory.importAddressesCsv(read('../../demo/district/addresses.csv'));
  await cloud.directory.importUnitsCsv(read('../../demo/district/units.csv'));
  await cloud.directory.importRulesCsv(read('../../demo/district/rules.csv'));
});

after(async () => {
  await cloud?.stop();
});

test('the new address columns import: text address, place name, floor, room, contact phone', async () => {
  const address = await getAddress(cloud.store, 'LH-DX-SB12-0301');
  assert.deepEqual(
    { text: address?.addressText, place: address?.placeName, floor: address?.floor, room: address?.room, phone: address?.contactPhone, grid: address?.grid },
    { text: '罗湖区东晓街道水贝二路12号', place: '李阿姨家', floor: '3', room: '301', phone: '138 0013 8001', grid: 'LH-DX-G01' },
  );
});

test('jurisdiction names come with the addresses (or their own CSV); a code without a name reads as the code', async () => {
  assert.equal(await jurisdictionName(cloud.store, 'community', 'LH-DX-C02'), '独树社区');
  assert.equal(await jurisdictionName(cloud.store, 'street', 'LH-DX'), '东晓街道');
  assert.equal(await jurisdictionName(cloud.store, 'grid', 'NO-SUCH'), 'NO-SUCH');
  await cloud.store.transaction((tx) => importJurisdictionsCsv(tx, 'tier,code,name\ngrid,LH-DX-G04,独树第二网格（新）\n'));
  assert.equal(await jurisdictionName(cloud.store, 'grid', 'LH-DX-G04'), '独树第二网格（新）');
  const all = await listJurisdictions(cloud.store);
  assert.equal(all.filter((j) => j.tier === 'grid').length, 4);
  const served = (await (await fetch(`${cloud.httpUrl}/api/v1/jurisdictions`)).json()) as { jurisdictions: typeof all };
  assert.deepEqual(served.jurisdictions, all);
  assert.ok(served.jurisdictions.some((j) => j.tier === 'community' && j.code === 'LH-DX-C01' && j.name === '水贝社区'));
  await assert.rejects(cloud.store.transaction((tx) => importJurisdictionsCsv(tx, 'tier,code,name\nbuilding,X,Y\n')), CsvError);
});

test('an address file in the old format (no readable columns) still imports, with empty texts', async () => {
  const count = await cloud.directory.importAddressesCsv(read('./fixtures/addresses.csv'));
  assert.ok(count > 0);
  const address = await getAddress(cloud.store, 'FT-0001-0203');
  assert.equal(address?.addressText, '');
  assert.equal(address?.placeName, '');
  assert.equal(address?.floor, '2');
});

test('a contact phone with letters is refused with its line, and nothing of the file is written', async () => {
  const csv = 'address_id,building,grid,community,street,district,contact_phone\nX-1,B,G,C,S,D,0755-1234\nX-2,B,G,C,S,D,call me\n';
  await assert.rejects(cloud.store.transaction((tx) => importAddressesCsv(tx, csv)), /line 3: contact_phone/);
  assert.equal(await getAddress(cloud.store, 'X-1'), null);
});

test('an incident from the API carries the text address, the place name and the routed unit name', async () => {
  const client = await connectGateway(cloud.mqttUrl, GW.gatewayId, GW.secret);
  const event = alarmEvent(GW.gatewayId, 1, { deviceId: 'smoke-places', addressId: 'LH-DX-SB12-0101', level: 1, edgeTime: Date.now() });
  await client.publishAsync(topicFor(GW, 'events'), encodeMessage('events', eventsMessage(GW.gatewayId, [event])), { qos: 1 });
  await client.endAsync();
  const incident = await eventually('the incident, routed', async () => {
    const body = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents`)).json()) as { incidents: Incident[] };
    return body.incidents.find((i) => i.deviceId === 'smoke-places' && i.unitId !== null);
  });
  assert.equal(incident.addressText, '罗湖区东晓街道水贝二路12号');
  assert.equal(incident.placeName, '老王拉面馆');
  assert.equal(incident.unitId, 'grid-lh-dx-g01');
  assert.equal(incident.unitName, '水贝第一网格 网格员刘明');
  const one = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${incident.id}`)).json()) as Incident;
  assert.equal(one.placeName, '老王拉面馆');
});

test('the CSV examples in the README import as documented', async () => {
  const readme = read('../../README.md');
  const section = readme.slice(readme.indexOf('## The address book, units and routing rules (CSV)'));
  const blocks = [...section.matchAll(/```csv\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 3, 'addresses, units, rules');
  const store = await PgliteStore.open(MEMORY_DATA_DIR);
  try {
    await migrate(store);
    await store.transaction(async (tx) => {
      assert.equal(await importAddressesCsv(tx, blocks[0]!), 2);
      assert.equal(await importUnitsCsv(tx, blocks[1]!), 2);
      assert.equal(await importRulesCsv(tx, blocks[2]!), 3);
    });
    assert.equal((await getAddress(store, 'FT-0003-0101'))?.room, '101, rear');
    assert.equal(await jurisdictionName(store, 'grid', 'LH-DX-G01'), '水贝第一网格');
  } finally {
    await store.close();
  }
});
