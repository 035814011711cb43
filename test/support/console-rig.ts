// The rig every console browser test stands on: a cloud on free ports with an address book, units,
// routing rules, staff and one gateway connected over MQTT, and Debian's chromium driven by
// playwright-core (never a downloaded browser; the background-networking flags keep it off the
// closed network).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startCloud, type Cloud, type CloudConfigInput } from '@gridwatch/cloud';
import { connectGateway } from '../../cloud/test/helpers.ts';

export const CHROMIUM = process.env.GRIDWATCH_CHROMIUM ?? '/usr/bin/chromium';
const FIXTURES = join(import.meta.dirname, '..', '..', 'cloud', 'test', 'fixtures');

/** A CSV from cloud/test/fixtures (addresses.csv, units.csv, rules.csv). */
export const fixtureCsv = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

export interface StaffUser {
  username: string;
  password: string;
  role: string;
  jurisdictions: string[];
  displayName: string;
}

export interface ConsoleRigOptions {
  gateway: { gatewayId: string; site: string; secret: string };
  staff: StaffUser[];
  /** CSV text; default the routing fixtures of cloud/test/fixtures. */
  addresses?: string;
  units?: string;
  rules?: string;
  /** More cloud configuration (e.g. mapTiles). */
  config?: CloudConfigInput;
}

export interface ConsoleRig {
  cloud: Cloud;
  gateway: MqttClient;
  browser: Browser;
  stop(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (or set GRIDWATCH_CHROMIUM)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export async function startConsoleRig(options: ConsoleRigOptions): Promise<ConsoleRig> {
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', openAccess: false, tickMs: 200, ...options.config });
  await cloud.directory.importAddressesCsv(options.addresses ?? fixtureCsv('addresses.csv'));
  await cloud.directory.importUnitsCsv(options.units ?? fixtureCsv('units.csv'));
  await cloud.directory.importRulesCsv(options.rules ?? fixtureCsv('rules.csv'));
  for (const user of options.staff) await cloud.directory.addUser(user);
  await cloud.gateways.addGateway(options.gateway);
  const gateway = await connectGateway(cloud.mqttUrl, options.gateway.gatewayId, options.gateway.secret);
  const browser = await launchChromium();
  return {
    cloud,
    gateway,
    browser,
    async stop() {
      await browser.close();
      await gateway.endAsync();
      await cloud.stop();
    },
  };
}

/**
 * Makes the page's alarm signals observable: every WebAudio oscillator started and every system
 * Notification shown are recorded in window.__gw (the real AudioContext and Notification still
 * run). Call before the page loads (an init script).
 */
export async function observeAlarms(context: BrowserContext): Promise<void> {
  // Page code as text: this file is checked without the DOM library.
  await context.addInitScript({
    content: `(() => {
      const gw = (window.__gw = { tones: 0, notifications: [] });
      const start = OscillatorNode.prototype.start;
      OscillatorNode.prototype.start = function (...args) { gw.tones += 1; return start.apply(this, args); };
      const Real = window.Notification;
      if (!Real) return;
      const Recorded = function (title, options) { gw.notifications.push({ title, body: (options && options.body) || '' }); return new Real(title, options); };
      Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
      Recorded.requestPermission = Real.requestPermission.bind(Real);
      window.Notification = Recorded;
    })();`,
  });
}

export interface AlarmSignals {
  tones: number;
  notifications: { title: string; body: string }[];
}

/** What observeAlarms recorded. */
export function alarmSignals(page: Page): Promise<AlarmSignals> {
  return page.evaluate('window.__gw') as Promise<AlarmSignals>;
}

/** Logs in through the console's form and waits for the live connection. */
export async function logIn(page: Page, url: string, user: { username: string; password: string }, tap = false): Promise<void> {
  await page.goto(url);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  if (tap) await page.tap('#login-submit');
  else await page.click('#login-submit');
  await page.waitForSelector('#connection.online');
}
