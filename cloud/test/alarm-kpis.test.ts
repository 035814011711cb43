// Alarm KPIs (ISA-18.2 monitoring) on a real cloud: a scripted morning of steam pulses on one
// detector with verification on (7 unconfirmed pre-alarms → the GB 50440 review flag), a fault
// burst that floods one community, and the CSV export.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AlarmEvent } from '@gridwatch/protocol';
import { resolveConfig } from '../src/config.ts';
import { applyEvents } from '../src/incidents/apply.ts';
import type { AlarmKpis } from '../src/incidents/kpis.ts';
import { startCloud, type Cloud } from '../src/index.ts';
import { engineOptions } from '../src/wiring/engine.ts';
import { alarmEvent } from './helpers.ts';

const START = Date.UTC(2026, 11, 1, 6, 0, 0);
const POLICY = { version: 1 as const, types: { smoke: { verification: { enabled: true, verifyS: 30, confirmS: 60 } } } };
const gateway = { gatewayId: 'gw-kpi', site: 'sz-futian' };
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
let cloud: Cloud;

before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', alarmPolicy: POLICY });
  await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
  await cloud.directory.importUnitsCsv(fixture('units.csv'));
  await cloud.directory.importRulesCsv(fixture('rules.csv'));
  await cloud.gateways.addGateway({ ...gateway, secret: 'kpi-secret-1' });
  const engine = engineOptions(resolveConfig({ alarmPolicy: POLICY }));
  let seq = 0;
  const ev = (atS: number, overrides: Partial<AlarmEvent>): AlarmEvent => alarmEvent(gateway.gatewayId, ++seq, { edgeTime: START + atS * 1000, ...overrides });
  // The cloud's own alarm-policy job runs on the wall clock, long after these edge times: each
  // pulse (raise and clear) is one batch so the job cannot promote a pre-alarm between the two.
  const batches: AlarmEvent[][] = [];
  // Seven 6 s steam pulses, 10 minutes apart: each a pre-alarm that clears unconfirmed.
  for (let n = 0; n < 7; n += 1) {
    batches.push([ev(n * 600, { deviceId: 'smoke-kitchen', level: 1, addressId: 'FT-0002-0101' }), ev(n * 600 + 6, { deviceId: 'smoke-kitchen', level: 1, addressId: 'FT-0002-0101', action: 'clear' })]);
  }
  // 12 faults within 2 minutes in community FT-C01 one hour in: a flood.
  for (let n = 0; n < 12; n += 1) batches.push([ev(3600 + n * 10, { deviceId: `det-${n}`, alarmType: 'fault', level: 3, addressId: 'FT-0004-0101' })]);
  for (const batch of batches) await cloud.store.transaction((tx) => applyEvents(tx, gateway, batch, engine));
});
after(async () => cloud.stop());

const url = (path = ''): string => `http://127.0.0.1:${cloud.httpPort}/api/v1/alarm-kpis${path}?from=${START}&to=${START + 4 * 3600_000}`;

test('KPIs: false alarms per device per day with the review flag, top sources, load and flood per community', async () => {
  const res = await fetch(url());
  assert.equal(res.status, 200);
  const kpis = (await res.json()) as AlarmKpis;
  assert.deepEqual(kpis.falseAlarms, [{ gatewayId: 'gw-kpi', deviceId: 'smoke-kitchen', day: '2026-12-01', count: 7, review: true }]);
  assert.deepEqual(kpis.topSources[0], { gatewayId: 'gw-kpi', deviceId: 'smoke-kitchen', alarmType: 'smoke', raises: 7 });
  const community = kpis.jurisdictions.find((j) => j.community === 'FT-C01');
  assert.ok(community, JSON.stringify(kpis.jurisdictions));
  // 7 pre-alarms + 1 flood notice on the board (the 12 faults are folded under it).
  assert.equal(community.items, 8);
  assert.equal(community.worstTenMinutes, 2, 'a pulse and the flood notice share a 10-minute bucket');
  assert.ok(community.floodPercent > 0 && community.floodPercent < 2, `flood ${community.floodPercent} %`);
});

test('KPIs export as CSV, one row per figure', async () => {
  const res = await fetch(url('/csv'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  const lines = (await res.text()).trim().split('\n');
  assert.equal(lines[0], 'metric,subject,day,value');
  assert.ok(lines.includes('false_alarms_review,gw-kpi/smoke-kitchen,2026-12-01,7'), lines.join('\n'));
  assert.ok(lines.includes('items,FT-C01,,8'));
  assert.equal((await fetch(`http://127.0.0.1:${cloud.httpPort}/api/v1/alarm-kpis?from=10&to=5`)).status, 400, 'from after to');
});
