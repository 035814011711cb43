// The console as a PWA (issue #13), in Debian's chromium via playwright-core: a web manifest, a
// service worker that keeps the app shell, a visible 离线/重连中 state when the network goes, the
// shell opening without a network, live data never served from a cache, and back to 实时在线.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { logIn, startConsoleRig, type ConsoleRig } from '../support/console-rig.ts';

const GW = { gatewayId: 'gw-pwa-01', site: 'sz-futian', secret: 'pwa-secret-01' };
const STAFF = { username: 'sun.li', password: 'c01-password-pwa', role: 'community_staff', jurisdictions: ['community:FT-C01'], displayName: '孙丽' };

let rig: ConsoleRig;

before(async () => {
  rig = await startConsoleRig({ gateway: GW, staff: [STAFF] });
});

after(async () => {
  await rig?.stop();
});

test('manifest, offline shell, 离线 state, no cached live data, and back online', { timeout: 120_000 }, async () => {
  const url = rig.cloud.httpUrl;
  const manifest = (await (await fetch(`${url}/manifest.webmanifest`)).json()) as { name: string; start_url: string; display: string; icons: unknown[] };
  assert.match(manifest.name, /网格安全控制台/);
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.icons.length > 0);

  const context = await rig.browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await logIn(page, url, STAFF, true);
  assert.equal(await page.getAttribute('link[rel="manifest"]', 'href'), 'manifest.webmanifest');
  // The service worker installs (the shell cached) and controls the page.
  await page.waitForFunction('navigator.serviceWorker.ready.then((r) => Boolean(r.active))');
  await page.reload();
  await page.waitForSelector('#connection.online');
  await page.waitForFunction('Boolean(navigator.serviceWorker.controller)');

  // The network goes: the page says so at once, in Chinese.
  await context.setOffline(true);
  await page.waitForSelector('#connection.offline, #connection.reconnecting');
  assert.match(await page.innerText('#connection'), /离线|重连中/);
  assert.match(await page.innerText('#offline-banner'), /离线/);

  // Opened without a network: the shell comes from the cache and says it is offline; the live
  // API is not answered from a cache.
  await page.reload();
  await page.waitForSelector('#offline-banner');
  assert.match(await page.innerText('#connection'), /离线/);
  const api = await page.evaluate("fetch('/api/v1/incidents').then((r) => 'answered ' + r.status, () => 'failed')");
  assert.equal(api, 'failed', 'the incident list is never served from the cache');

  // Back online: logged in again by the session cookie, live.
  await context.setOffline(false);
  await page.waitForSelector('#connection.online', { timeout: 20_000 });
  assert.equal(await page.locator('#offline-banner').count(), 0);
  await context.close();
});
