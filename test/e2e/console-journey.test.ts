// The journey of issue #13, in Debian's chromium via playwright-core, on a phone (360×740) and on
// a desk (1366×768): a community worker logs in, a level-1 alarm arrives (the tone starts and a
// system notification is shown: permission granted through the browser context), they open it,
// acknowledge, reassign it to the community office with a reason, arrive (on site) and resolve it
// with a note, all from the detail's own actions. The audit trail shows each step in Chinese with
// the staffer's display name, and the server's audit agrees.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { encodeMessage, topicFor } from '@gridwatch/protocol';
import type { AuditEntry, Cloud, Incident } from '@gridwatch/cloud';
import { alarmEvent, eventsMessage } from '../../cloud/test/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { alarmSignals, logIn, observeAlarms, startConsoleRig, type ConsoleRig } from '../support/console-rig.ts';

const GW = { gatewayId: 'gw-journey-01', site: 'sz-futian', secret: 'journey-secret-01' };
const STAFF = { username: 'li.na', password: 'c01-password-journey', role: 'community_staff', jurisdictions: ['community:FT-C01'], displayName: '李娜' };
const SIZES = [
  { name: 'phone', width: 360, height: 740, mobile: true },
  { name: 'desktop', width: 1366, height: 768, mobile: false },
] as const;

let rig: ConsoleRig;
let cloud: Cloud;
let browser: Browser;
let gateway: MqttClient;
let seq = 0;
let token = '';

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF] });
  ({ cloud, browser, gateway } = rig);
  const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(STAFF) });
  token = ((await res.json()) as { token: string }).token;
});

after(async () => {
  await rig?.stop();
});

async function get<T>(path: string): Promise<T> {
  return (await (await fetch(`${cloud.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
}

/** One step from the detail's own action bar: press, fill the dialog, confirm, see the status. */
async function step(page: Page, mobile: boolean, action: string, note: string, fill?: (page: Page) => Promise<void>): Promise<void> {
  const button = `#detail-actions button[data-action="${action}"]`;
  if (mobile) await page.tap(button);
  else await page.click(button);
  await page.waitForSelector(`#action-dialog[open][data-action="${action}"]`);
  if (fill) await fill(page);
  await page.fill('#action-note', note);
  if (mobile) await page.tap('#action-submit');
  else await page.click('#action-submit');
  // Closed = the server took it; an error in the dialog fails the step with the server's words.
  const outcome = await Promise.race([
    page.waitForSelector('#action-dialog:not([open])', { state: 'attached' }).then(() => ''),
    page.waitForSelector('#action-error:not(:empty)').then((e) => e.innerText()),
  ]);
  assert.equal(outcome, '', `${action}: the dialog shows an error`);
}

for (const size of SIZES) {
  test(`journey at ${size.width}×${size.height}: alarm rings and notifies, acknowledge, reassign, on site, resolve; audit in Chinese with the staffer's name`, { timeout: 120_000 }, async () => {
    const context = await browser.newContext({
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: { width: size.width, height: size.height },
      isMobile: size.mobile,
      hasTouch: size.mobile,
      permissions: ['notifications'],
    });
    await observeAlarms(context);
    const page = await context.newPage();
    await logIn(page, cloud.httpUrl, STAFF, size.mobile);

    // FT-0001-0203 is in grid FT-G01 of community FT-C01: routed to grid-g01.
    const event = alarmEvent(GW.gatewayId, ++seq, { deviceId: `smoke-journey-${size.name}`, addressId: 'FT-0001-0203', level: 1, edgeTime: Date.now(), readings: { smoke_density: 0.25 } });
    await gateway.publishAsync(topicFor(GW, 'events'), Buffer.from(encodeMessage('events', eventsMessage(GW.gatewayId, [event]))), { qos: 1 });
    const row = await page.waitForSelector('tbody tr[data-status="dispatched"]', { timeout: 10_000 });
    const id = Number(await row.getAttribute('data-id'));

    const signals = await eventually('the tone and the notification', async () => {
      const s = await alarmSignals(page);
      return s.tones > 0 && s.notifications.length > 0 ? s : undefined;
    });
    assert.match(signals.notifications[0]?.title ?? '', /^1级告警：烟感告警/, 'a system notification in Chinese');

    // Open it: on a phone the detail is its own screen.
    if (size.mobile) await page.tap(`tr[data-id="${id}"] td.type`);
    else await page.click(`tr[data-id="${id}"] td.type`);
    await page.waitForSelector('#detail #detail-actions button[data-action="acknowledge"]');
    if (size.mobile) {
      const box = await page.locator('#detail').boundingBox();
      assert.ok(box && box.x === 0 && box.width === size.width, `the detail fills the phone screen (${JSON.stringify(box)})`);
    }

    await step(page, size.mobile, 'acknowledge', '收到，马上过去');
    await page.waitForSelector('#detail-actions button[data-action="reassign"]');
    await step(page, size.mobile, 'reassign', '需要社区工作站协助', (p) => p.selectOption('#action-unit', 'comm-c01').then(() => undefined));
    await eventually('reassigned to the community office', async () => (await get<Incident>(`/api/v1/incidents/${id}`)).unitId === 'comm-c01', 10_000);
    await step(page, size.mobile, 'on_site', '已到现场');
    await page.waitForSelector('#detail-actions button[data-action="resolve"]');
    await step(page, size.mobile, 'resolve', '厨房油烟，已开窗通风');
    const resolved = await eventually('resolved', async () => {
      const i = await get<Incident>(`/api/v1/incidents/${id}`);
      return i.status === 'resolved' ? i : undefined;
    }, 10_000);
    assert.notEqual(resolved.acknowledgedAt, null);

    // The audit trail on screen: every step in Chinese, with the staffer's display name.
    await page.waitForSelector('#detail .timeline li[data-audit-action="resolve"]');
    const steps = { acknowledge: '确认', reassign: '转派', on_site: '到场', resolve: '办结' };
    for (const [action, label] of Object.entries(steps)) {
      const text = await page.innerText(`#detail .timeline li[data-audit-action="${action}"]`);
      assert.match(text, new RegExp(label), `${action} shown as ${label}: ${text}`);
      assert.match(text, /李娜/, `${action} by the staffer's display name: ${text}`);
      assert.doesNotMatch(text, /li\.na/, 'not the login name');
    }
    assert.match(await page.innerText('#detail .timeline li[data-audit-action="resolve"]'), /厨房油烟，已开窗通风/);
    const timeline = await page.innerText('#detail .timeline');
    assert.doesNotMatch(timeline, /\b(acknowledge|reassign|on_site|resolve|dispatched)\b/, `no English action codes: ${timeline}`);

    // The server's audit agrees: each step by this user, in this order.
    const mine = (await get<{ audit: AuditEntry[] }>(`/api/v1/incidents/${id}/audit`)).audit.filter((a) => a.actor === STAFF.username);
    assert.deepEqual(mine.map((a) => a.action), ['acknowledge', 'reassign', 'on_site', 'resolve']);
    // The server names the person, so a colleague reading this trail sees 李娜, not a login.
    assert.deepEqual([...new Set(mine.map((a) => a.actorName))], [STAFF.displayName]);
    await context.close();
  });
}
