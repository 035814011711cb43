// ISA-18.2 "returned, unacknowledged" on the real console (Debian's chromium via playwright-core):
// a level-1 smoke alarm that clears by itself before anyone acknowledged it stays on the board,
// labelled 已恢复·待确认 with its buttons; staff acknowledge and resolve it, and mark another such
// alarm as a false alarm. Screenshots go to a temporary folder only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { encodeMessage, topicFor, type AlarmEvent } from '@gridwatch/protocol';
import type { Cloud, Incident } from '../src/index.ts';
import { alarmEvent, eventsMessage, eventually } from './helpers.ts';
import { startConsoleRig, type ConsoleRig } from '../../test/support/console-rig.ts';

const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'gw-returned-'));
const GW = { gatewayId: 'gw-returned-01', site: 'sz-futian', secret: 'returned-secret-01' };
const STAFF = { username: 'wang.fang', password: 'c01-password-rt', role: 'community_staff', jurisdictions: ['community:FT-C01'], displayName: '王芳' };

let rig: ConsoleRig;
let cloud: Cloud;
let browser: Browser;
let gateway: MqttClient;
let page: Page;
let seq = 0;

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF] });
  ({ cloud, browser, gateway } = rig);
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai' });
  page = await context.newPage();
  await page.goto(cloud.httpUrl);
  await page.fill('#username', STAFF.username);
  await page.fill('#password', STAFF.password);
  await page.click('#login-submit');
  await page.waitForSelector('#connection.online');
});

after(async () => {
  await rig?.stop();
  rmSync(SCREENSHOTS, { recursive: true, force: true });
});

async function send(overrides: Partial<AlarmEvent>): Promise<AlarmEvent> {
  const event = alarmEvent(GW.gatewayId, ++seq, { edgeTime: Date.now(), level: 1, ...overrides });
  await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });
  return event;
}

async function incident(id: number): Promise<Incident> {
  const login = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(STAFF) });
  const { token } = (await login.json()) as { token: string };
  return (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Incident;
}

/** Raises a level-1 smoke alarm, clears it from the device, and returns its board row id once returned. */
async function selfClearingAlarm(deviceId: string, addressId: string): Promise<number> {
  await send({ deviceId, addressId });
  const id = await eventually('the incident', async () => {
    const rows = await cloud.store.query<{ id: string }>('SELECT id FROM incidents WHERE device_id = $1', [deviceId]);
    return rows[0] ? Number(rows[0].id) : undefined;
  });
  await page.waitForSelector(`tr[data-id="${id}"][data-status="dispatched"][data-alarm-state="active"]`, { timeout: 10_000 });
  await send({ deviceId, addressId, action: 'clear', level: 5, reason: 'smoke below threshold' });
  await page.waitForSelector(`tr[data-id="${id}"][data-alarm-state="returned"]`, { timeout: 10_000 });
  return id;
}

async function act(id: number, action: string, note: string): Promise<void> {
  await page.click(`tr[data-id="${id}"] button[data-action="${action}"]`);
  await page.fill('#action-note', note);
  await page.click('#action-submit');
}

test('a level-1 smoke alarm that clears by itself stays on the board as returned, unacknowledged; staff acknowledge, resolve, and mark false', { timeout: 120_000 }, async () => {
  const id = await selfClearingAlarm('smoke-rt-1', 'FT-0001-0203');
  const returned = await incident(id);
  assert.equal(returned.status, 'dispatched');
  assert.equal(returned.alarmState, 'returned');
  assert.equal(returned.open, true);
  const status = await page.textContent(`tr[data-id="${id}"] td.status`);
  assert.equal(status?.trim(), '已恢复·待确认');
  const deadline = await page.textContent(`tr[data-id="${id}"] td.deadline`);
  assert.match(deadline ?? '', /确认/, 'the acknowledge deadline is still running');
  for (const action of ['acknowledge', 'false_alarm']) assert.equal(await page.locator(`tr[data-id="${id}"] button[data-action="${action}"]`).count(), 1, action);
  await page.screenshot({ path: join(SCREENSHOTS, 'returned-unacknowledged-zh-CN.png') });

  await act(id, 'acknowledge', '已到现场查看，烟雾已散');
  await eventually('acknowledged', async () => (await incident(id)).status === 'acknowledged', 10_000);
  await page.waitForSelector(`tr[data-id="${id}"] button[data-action="resolve"]`, { timeout: 10_000 });
  await act(id, 'resolve', '厨房油烟，已提醒住户');
  const resolved = await eventually('resolved', async () => {
    const i = await incident(id);
    return i.status === 'resolved' ? i : undefined;
  }, 10_000);
  assert.notEqual(resolved.acknowledgedAt, null);

  // Another one, marked as a false alarm straight from returned, unacknowledged.
  const other = await selfClearingAlarm('smoke-rt-2', 'FT-0002-0101');
  assert.notEqual(other, id);
  await act(other, 'false_alarm', '探测器误报');
  await eventually('false alarm', async () => (await incident(other)).status === 'false_alarm', 10_000);
});
