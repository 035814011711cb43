// The work steps of issue #13 on the real console (Debian's chromium via playwright-core, desk
// size): search and filters narrow the live board, shelve (搁置, reason + until) takes an incident
// off the board into the shelved list and unshelve brings it back, the history finds a resolved
// incident in a time range, the handover and KPI pages answer (CSV export included), and a flood
// notice is acknowledged with all its members in one step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import type { Incident } from '@gridwatch/cloud';
import { alarmEvent, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { logIn, startConsoleRig, type ConsoleRig } from '../support/console-rig.ts';

const GW = { gatewayId: 'gw-steps-01', site: 'sz-luohu', secret: 'steps-secret-01' };
const STAFF = { username: 'wu.gang', password: 'c01-password-steps', role: 'community_staff', jurisdictions: ['community:LH-C01'], displayName: '吴刚' };
const HEAD = 'address_id,building,unit,floor,room,grid,community,street,district,lat,lon,address_text,place_name,contact_phone,grid_name,community_name,street_name,district_name';
const ADDRESSES = [
  HEAD,
  'LH-0012-0101,LH-B012,1,1,101,LH-G01,LH-C01,LH-S01,LH,22.5560,114.1190,罗湖区东晓街道水贝二路12号,水贝珠宝城A12铺,0755-2588 1234,水贝一网格,水贝社区,东晓街道,罗湖区',
  'LH-0021-0001,LH-B021,1,1,001,LH-G02,LH-C01,LH-S01,LH,22.5549,114.1178,罗湖区东晓街道布心路21号,布心农贸市场,0755-2555 0021,水贝二网格,水贝社区,东晓街道,罗湖区',
].join('\n');
const UNITS = ['id,name,type,tier,area', 'lh-grid-01,水贝一网格网格员,grid_worker,grid,LH-G01', 'lh-grid-02,水贝二网格网格员,grid_worker,grid,LH-G02', 'lh-comm-01,水贝社区工作站,community_office,community,LH-C01'].join('\n');

let rig: ConsoleRig;
let page: Page;
let token = '';
let seq = 0;

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF], addresses: ADDRESSES, units: UNITS });
  token = ((await (await fetch(`${rig.cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(STAFF) })).json()) as { token: string }).token;
  const context = await rig.browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 768 }, timezoneId: 'Asia/Shanghai' });
  page = await context.newPage();
  await logIn(page, rig.cloud.httpUrl, STAFF);
});

after(async () => {
  await rig?.stop();
});

async function publish(overrides: Parameters<typeof alarmEvent>[2]): Promise<number> {
  const event = alarmEvent(GW.gatewayId, ++seq, { edgeTime: Date.now(), ...overrides });
  await rig.gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });
  return eventually('the incident', async () => (await list('limit=200')).find((i) => i.firstEventId === event.id || i.members.some((m) => m.deviceId === overrides?.deviceId))?.id, 10_000);
}

async function list(query: string): Promise<Incident[]> {
  return ((await (await fetch(`${rig.cloud.httpUrl}/api/v1/incidents?${query}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { incidents: Incident[] }).incidents;
}

async function one(id: number): Promise<Incident> {
  return (await (await fetch(`${rig.cloud.httpUrl}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Incident;
}

async function act(id: number, action: string, note: string, where = `tr[data-id="${id}"]`): Promise<void> {
  await page.click(`${where} button[data-action="${action}"]`);
  await page.waitForSelector(`#action-dialog[open][data-action="${action}"]`);
  await page.fill('#action-note', note);
  await page.click('#action-submit');
  const outcome = await Promise.race([
    page.waitForSelector('#action-dialog:not([open])', { state: 'attached' }).then(() => ''),
    page.waitForSelector('#action-error:not(:empty)').then((e) => e.innerText()),
  ]);
  assert.equal(outcome, '', `${action}: the dialog shows an error`);
}

const boardIds = async (): Promise<number[]> => (await page.$$eval('#incidents tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-id'))))).sort();

let shop = 0;
let market = 0;

test('search and filters narrow the live board', { timeout: 60_000 }, async () => {
  shop = await publish({ deviceId: 'smoke-shop', addressId: 'LH-0012-0101', level: 1 });
  market = await publish({ deviceId: 'leak-market', addressId: 'LH-0021-0001', alarmType: 'water_leak', level: 3 });
  await page.waitForSelector(`tr[data-id="${market}"]`);
  assert.deepEqual(await boardIds(), [shop, market].sort());
  await page.fill('#search', '农贸');
  await eventually('only the market', async () => JSON.stringify(await boardIds()) === JSON.stringify([market]));
  await page.fill('#search', '');
  await page.selectOption('select[data-filter="level"]', '1');
  await eventually('only level 1', async () => JSON.stringify(await boardIds()) === JSON.stringify([shop]));
  await page.selectOption('select[data-filter="level"]', '');
  await page.selectOption('select[data-filter="grid"]', 'LH-G02');
  await eventually('only grid LH-G02', async () => JSON.stringify(await boardIds()) === JSON.stringify([market]));
  await page.click('.filters button.clear');
  await eventually('both again', async () => (await boardIds()).length === 2);
});

test('shelve (搁置) with reason and end time takes it off the board; unshelve brings it back', { timeout: 60_000 }, async () => {
  await act(market, 'shelve', '市场停业装修，明早复查');
  await page.waitForSelector(`#shelved li[data-id="${market}"]`);
  assert.equal(await page.locator(`#incidents tr[data-id="${market}"]`).count(), 0, 'off the board');
  const shelved = await one(market);
  assert.ok(shelved.shelvedUntil && Date.parse(shelved.shelvedUntil) > Date.now() + 3600_000, `until ~2 h from now: ${shelved.shelvedUntil}`);
  assert.equal(shelved.shelvedReason, '市场停业装修，明早复查');
  assert.match(await page.innerText(`#shelved li[data-id="${market}"]`), /布心农贸市场.*市场停业装修/s);
  await act(market, 'unshelve', '提前复查', `#shelved li[data-id="${market}"]`);
  await page.waitForSelector(`#incidents tr[data-id="${market}"]`);
  assert.equal((await one(market)).shelvedUntil, null);
});

test('history finds a resolved incident in its time range; handover and KPI pages answer', { timeout: 60_000 }, async () => {
  await act(shop, 'acknowledge', '已联系店主');
  await page.waitForSelector(`tr[data-id="${shop}"] button[data-action="resolve"]`);
  await act(shop, 'resolve', '误触烟感，已复位');
  await eventually('resolved', async () => (await one(shop)).status === 'resolved');

  await page.click('#tabs button[data-tab="history"]');
  await page.waitForSelector(`#history tr[data-id="${shop}"]`);
  assert.match(await page.innerText(`#history tr[data-id="${shop}"]`), /已办结/);
  // A range that ends before the alarm: not found.
  await page.fill('#history-to', '2020-01-01T00:00');
  await page.click('#history-load');
  await eventually('nothing before 2020', async () => (await page.locator('#history tr').count()) === 0);

  await page.click('#tabs button[data-tab="handover"]');
  await page.waitForSelector('.handover .card');
  assert.match(await page.innerText('.handover'), /本班开始于/);

  await page.click('#tabs button[data-tab="kpis"]');
  const href = await (await page.waitForSelector('#kpi-csv')).getAttribute('href');
  const csv = await page.evaluate(`fetch(${JSON.stringify(href)}).then(async (r) => r.headers.get('content-type') + '\\n' + (await r.text()))`);
  assert.match(String(csv), /^text\/csv/);
  await page.click('#tabs button[data-tab="board"]');
});

test('a flood notice is acknowledged with all its members in one step (全部确认)', { timeout: 90_000 }, async () => {
  // Device faults do not correlate: each is a board item until the community's flood threshold.
  for (let k = 0; k < 12; k++) await publish({ deviceId: `fault-${k}`, alarmType: 'fault', level: 3, addressId: 'LH-0012-0101', readings: { fault: true } });
  const notice = await eventually('a flood notice', async () => (await list('board=true')).find((i) => i.kind === 'flood' && i.open), 15_000);
  await page.waitForSelector(`tr[data-id="${notice.id}"] button[data-action="acknowledge_group"]`);
  await act(notice.id, 'acknowledge_group', '批量确认：同一配电箱故障');
  const members = await eventually('every member acknowledged', async () => {
    const m = await list(`groupId=${notice.id}`);
    return m.length > 0 && m.every((i) => i.status === 'acknowledged') ? m : undefined;
  }, 10_000);
  assert.equal((await one(notice.id)).status, 'acknowledged');
  assert.ok(members.length >= 1);
});
