// The console on a phone (issue #13), in Debian's chromium via playwright-core at 360×740: the board
// is a column of cards that fits the screen, shows the place name and text address and the unit's
// name (no codes, no English words in zh-CN), the header names the community; tapping a card opens
// the detail as its own screen with its own actions, and acknowledging there changes the incident.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import type { Cloud, Incident } from '@gridwatch/cloud';
import { alarmEvent, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { startConsoleRig, type ConsoleRig } from '../support/console-rig.ts';

const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'gw-phone-'));
const GW = { gatewayId: 'gw-phone-01', site: 'sz-luohu', secret: 'phone-secret-01' };
const STAFF = { username: 'zhou.min', password: 'c01-password-phone', role: 'community_staff', jurisdictions: ['community:LH-C01'], displayName: '周敏' };
const ADDRESSES = [
  'address_id,building,unit,floor,room,grid,community,street,district,lat,lon,address_text,place_name,contact_phone,grid_name,community_name,street_name,district_name',
  'LH-0012-0101,LH-B012,1,1,101,LH-G01,LH-C01,LH-S01,LH,22.5560,114.1190,罗湖区东晓街道水贝二路12号,水贝珠宝城A12铺,0755-2588 1234,水贝一网格,水贝社区,东晓街道,罗湖区',
].join('\n');
const UNITS = ['id,name,type,tier,area', 'lh-grid-01,水贝一网格网格员,grid_worker,grid,LH-G01', 'lh-comm-01,水贝社区工作站,community_office,community,LH-C01'].join('\n');

let rig: ConsoleRig;
let cloud: Cloud;
let browser: Browser;
let gateway: MqttClient;

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF], addresses: ADDRESSES, units: UNITS });
  ({ cloud, browser, gateway } = rig);
});

after(async () => {
  await rig?.stop();
  rmSync(SCREENSHOTS, { recursive: true, force: true });
});

test('at 360×740 the board is cards with readable places in Chinese; the detail is its own screen with its actions', { timeout: 90_000 }, async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await page.goto(cloud.httpUrl);
  await page.fill('#username', STAFF.username);
  await page.fill('#password', STAFF.password);
  await page.tap('#login-submit');
  await page.waitForSelector('#connection.online');

  const event = alarmEvent(GW.gatewayId, 1, { deviceId: 'smoke-lh-01', addressId: 'LH-0012-0101', level: 1, edgeTime: Date.now(), readings: { smoke_db_m: 0.3 } });
  await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });
  const card = await page.waitForSelector('tbody tr[data-status="dispatched"]', { timeout: 10_000 });
  const id = Number(await card.getAttribute('data-id'));

  // Cards, not a wide table: the card fits the screen, the page does not scroll sideways, no header row.
  const box = await card.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 360, `the card fits 360 px (${JSON.stringify(box)})`);
  assert.ok((await page.evaluate('document.scrollingElement.scrollWidth')) as number <= 360, 'no sideways scrolling');
  assert.equal(await page.isVisible('#incidents thead'), false, 'no table header on a phone');
  const button = await page.locator(`tr[data-id="${id}"] button[data-action="acknowledge"]`).boundingBox();
  assert.ok(button && button.height >= 44, 'a thumb-sized button');

  // Readable places and names, in Chinese only.
  const boardText = (await page.innerText('#board')).trim();
  assert.match(boardText, /水贝珠宝城A12铺/);
  assert.match(boardText, /罗湖区东晓街道水贝二路12号/);
  assert.match(boardText, /水贝一网格网格员/);
  assert.match(boardText, /烟感告警/);
  assert.doesNotMatch(boardText, /LH-|[A-Za-z]{2,}/, `no codes or English words on the zh-CN board: ${boardText}`);
  const header = await page.innerText('header');
  assert.match(header, /周敏 · 水贝社区/);
  assert.doesNotMatch(header, /\*|LH-C01/);
  await page.screenshot({ path: join(SCREENSHOTS, 'console-board-phone-zh-CN.png') });

  // The detail as its own screen, with its own actions.
  await page.tap(`tr[data-id="${id}"] td.type`);
  await page.waitForSelector(`#detail:not([hidden]) #detail-actions button[data-action="acknowledge"]`);
  const detail = await page.locator('#detail').boundingBox();
  assert.ok(detail && detail.x === 0 && detail.y === 0 && detail.width === 360, `the detail fills the screen (${JSON.stringify(detail)})`);
  assert.match(await page.innerText('#detail'), /水贝珠宝城A12铺 · 罗湖区东晓街道水贝二路12号/);
  await page.screenshot({ path: join(SCREENSHOTS, 'console-detail-phone-zh-CN.png') });
  await page.tap('#detail-actions button[data-action="acknowledge"]');
  await page.fill('#action-note', '已联系店主');
  await page.tap('#action-submit');
  const token = ((await (await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(STAFF) })).json()) as { token: string }).token;
  await eventually('acknowledged from the phone detail', async () => {
    const res = await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as Incident).status === 'acknowledged';
  }, 10_000);
  // The detail's buttons follow the lifecycle: acknowledge gone, on site offered.
  await page.waitForSelector('#detail-actions button[data-action="on_site"]');
  assert.equal(await page.locator('#detail-actions button[data-action="acknowledge"]').count(), 0);
  await context.close();
});
