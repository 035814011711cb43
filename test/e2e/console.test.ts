// The live console in a real browser (Debian's chromium via playwright-core): two community staff
// of different communities are logged in; an alarm in community A appears on A's board within 1 s
// and never on B's, B's socket never carries it (a socket.io client logged in as B listens too),
// and acknowledging it on A's board changes the incident in the REST API. Its screenshots go to a
// temporary folder (the pictures of docs/screenshots/ are console-screens.test.ts's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { io as ioClient, type Socket } from 'socket.io-client';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import { INCIDENT_EVENT, type Cloud, type Incident, type AuditEntry } from '@gridwatch/cloud';
import { alarmEvent, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { startConsoleRig, type ConsoleRig } from '../support/console-rig.ts';

const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'gw-screenshots-'));
const GW = { gatewayId: 'gw-console-01', site: 'sz-futian', secret: 'console-secret-01' };
const STAFF_A = { username: 'li.na', password: 'c01-password', role: 'community_staff', jurisdictions: ['community:FT-C01'], displayName: '李娜' };
const STAFF_B = { username: 'zhao.lei', password: 'c02-password', role: 'community_staff', jurisdictions: ['community:FT-C02'], displayName: '赵磊' };

let rig: ConsoleRig;
let cloud: Cloud;
let browser: Browser;
let gateway: MqttClient;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF_A, STAFF_B] });
  ({ cloud, browser, gateway } = rig);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await rig?.stop();
  rmSync(SCREENSHOTS, { recursive: true, force: true });
});

async function token(user: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

async function loggedInPage(user: { username: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai' });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  await page.goto(cloud.httpUrl);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#login-submit');
  await page.waitForSelector('#connection.online');
  return page;
}

async function listen(user: { username: string; password: string }): Promise<Incident[]> {
  const received: Incident[] = [];
  const socket: Socket = ioClient(cloud.httpUrl, { transports: ['websocket'], forceNew: true, auth: { token: await token(user) } });
  cleanups.push(() => void socket.close());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  socket.on(INCIDENT_EVENT, (incident: Incident) => received.push(incident));
  return received;
}

test('without a session the API and the socket refuse; a wrong password is refused', async () => {
  assert.equal((await fetch(`${cloud.httpUrl}/api/v1/incidents`)).status, 401);
  const socket: Socket = ioClient(cloud.httpUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
  const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
  socket.close();
  assert.match(error.message, /log in/);
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: STAFF_A.username, password: 'wrong-password' }) });
  assert.equal(res.status, 401);
});

test('an alarm in community A reaches A’s board within 1 s, never B’s; A acknowledges it on the board', { timeout: 60_000 }, async () => {
  const [pageA, pageB] = await Promise.all([loggedInPage(STAFF_A), loggedInPage(STAFF_B)]);
  const socketA = await listen(STAFF_A);
  const socketB = await listen(STAFF_B);

  // FT-0001-0203 is in grid FT-G01 of community FT-C01 (the routing fixture).
  const event = alarmEvent(GW.gatewayId, 1, { deviceId: 'smoke-c01', addressId: 'FT-0001-0203', level: 1, edgeTime: Date.now(), readings: { smoke_density: 0.21, alarm: true } });
  const sentAt = Date.now();
  await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });

  const row = await pageA.waitForSelector('tbody tr[data-status="dispatched"]', { timeout: 5000 });
  const id = Number(await row.getAttribute('data-id'));
  const shownAt = Number(await row.getAttribute('data-shown-at'));
  // Stamped by the page (same host clock) when the socket.io push was put on the board.
  const boardMs = shownAt - sentAt;
  const onSocket = await eventually('the incident on A’s socket', () => socketA.find((i) => i.id === id), 2000);
  assert.equal(onSocket.community, 'FT-C01');
  console.log(`# alarm → A's board in ${boardMs} ms`);
  assert.ok(boardMs <= 1000, `A's board showed the alarm ${boardMs} ms after it was published (limit 1000 ms)`);

  // B: A's incident is on neither B's board nor B's socket. Proof that the system moved on rather
  // than a sleep: a later alarm in B's community (FT-0003-0101 is in FT-C02) reaches B's socket and
  // board, and a push of A's incident to B would have come first on the same socket.
  const eventB = alarmEvent(GW.gatewayId, 2, { deviceId: 'smoke-c02', addressId: 'FT-0003-0101', level: 1, edgeTime: Date.now(), readings: { smoke_density: 0.3, alarm: true } });
  await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [eventB]))), { qos: 1 });
  const incidentB = await eventually('B’s own incident on B’s socket', () => socketB.find((i) => i.firstEventId === eventB.id), 5000);
  await pageB.waitForSelector(`tbody tr[data-id="${incidentB.id}"]`, { timeout: 5000 });
  assert.equal(await pageB.locator('tbody tr').count(), 1, 'B’s board shows only B’s incident');
  assert.deepEqual(socketB.map((i) => i.id), [incidentB.id], 'B’s socket never carries A’s incident');
  const tokenB = await token(STAFF_B);
  assert.equal((await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${tokenB}` } })).status, 404);
  const actAsB = await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}/actions`, { method: 'POST', headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'acknowledge' }) });
  assert.equal(actAsB.status, 404, 'B cannot act on it either');

  await pageA.screenshot({ path: join(SCREENSHOTS, 'console-board-zh-CN.png') });

  // Acknowledge on A's board, with a note.
  await pageA.click(`tr[data-id="${id}"] button[data-action="acknowledge"]`);
  await pageA.fill('#action-note', '已电话联系业主，正在前往');
  await pageA.click('#action-submit');
  const tokenA = await token(STAFF_A);
  const acknowledged = await eventually('the incident acknowledged in the REST API', async () => {
    const res = await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${tokenA}` } });
    const incident = (await res.json()) as Incident;
    return incident.status === 'acknowledged' ? incident : undefined;
  }, 5000);
  assert.ok(acknowledged.acknowledgedAt !== null);
  const audit = (await (await fetch(`${cloud.httpUrl}/api/v1/incidents/${id}/audit`, { headers: { authorization: `Bearer ${tokenA}` } })).json()) as { audit: AuditEntry[] };
  const ack = audit.audit.find((a) => a.action === 'acknowledge');
  assert.equal(ack?.actor, STAFF_A.username, 'the action is recorded as the logged-in user');
  assert.equal(ack?.note, '已电话联系业主，正在前往');
  assert.match(ack?.source ?? '', /^console:/);

  // The detail: timeline, readings, address and floor view.
  await pageA.waitForSelector(`tr[data-id="${id}"][data-status="acknowledged"]`);
  await pageA.click(`tr[data-id="${id}"] td:nth-child(2)`);
  await pageA.waitForSelector('#detail:not([hidden]) .timeline li:nth-child(2)');
  const detail = await pageA.textContent('#detail');
  assert.match(detail ?? '', /FT-0001-0203/);
  assert.match(detail ?? '', /已确认/);
  assert.match(detail ?? '', /smoke_density=0\.21/);
  assert.equal(await pageA.locator('#detail svg.floor .hit-room').count(), 1);
  await pageA.screenshot({ path: join(SCREENSHOTS, 'console-detail-zh-CN.png') });
  assert.ok(!socketB.some((i) => i.id === id), 'B’s socket still never carries A’s incident');

  // The overview answers for A's scope.
  await pageA.click('#tabs button[data-tab="overview"]');
  await pageA.waitForSelector('#overview .card');
  await pageA.screenshot({ path: join(SCREENSHOTS, 'console-overview-zh-CN.png') });
});
