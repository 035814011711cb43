// The alarm management policy as data (issue 17): parsed and validated like the other cloud
// configuration (object, JSON text or a JSON file; errors name the path), merged per type and
// area, carried by the config knob `alarmPolicy`, and the board's API fields and filters (lane,
// board, drill-down by groupId) on a real cloud.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resolveConfig } from '../src/config.ts';
import { applyEvents } from '../src/incidents/apply.ts';
import { DEFAULT_ALARM_POLICY, parseAlarmPolicy, rulesFor } from '../src/incidents/policy.ts';
import { startCloud, type Cloud, type Incident } from '../src/index.ts';
import { engineOptions } from '../src/wiring/engine.ts';
import { alarmEvent } from './helpers.ts';

describe('alarm policy', () => {
  test('defaults: chattering 3 in 180 s, flood 10 in 600 s, verification off', () => {
    const rules = rulesFor(parseAlarmPolicy({ version: 1 }), 'smoke', null);
    assert.deepEqual(rules, DEFAULT_ALARM_POLICY.defaults);
    assert.equal(rules.verification.enabled, false);
  });

  test('per type, then district, then community: the narrower one wins, field by field', () => {
    const policy = parseAlarmPolicy(
      JSON.stringify({
        version: 1,
        types: { smoke: { verification: { enabled: true } } },
        areas: { FT: { types: { smoke: { verification: { verifyS: 20 } } } }, 'FT-C02': { defaults: { verification: { enabled: false } }, types: {} } },
      }),
    );
    assert.deepEqual(rulesFor(policy, 'smoke', { community: 'FT-C01', district: 'FT' }).verification, { enabled: true, verifyS: 20, confirmS: 120 });
    assert.equal(rulesFor(policy, 'smoke', { community: 'FT-C02', district: 'FT' }).verification.enabled, false);
    assert.equal(rulesFor(policy, 'smoke', null).verification.verifyS, 30);
    assert.equal(rulesFor(policy, 'gas_high', { community: 'FT-C01', district: 'FT' }).verification.enabled, false);
  });

  test('mistakes are refused naming the path; a file is read', () => {
    assert.throws(() => parseAlarmPolicy({ version: 1, defaults: { chatter: { cuont: 3 } } }), /^Error: alarmPolicy\.defaults\.chatter/);
    assert.throws(() => parseAlarmPolicy({ version: 1, types: { smoke: { verification: { verifyS: 31 } } } }), /alarmPolicy\.types\.smoke\.verification\.verifyS/);
    assert.throws(() => parseAlarmPolicy({ version: 2 }), /alarmPolicy\.version/);
    assert.throws(() => parseAlarmPolicy('/nonexistent/policy.json'), /cannot read \/nonexistent\/policy\.json/);
    const dir = mkdtempSync(join(tmpdir(), 'gw-policy-'));
    try {
      const file = join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ version: 1, defaults: { flood: { quietS: 120 } } }));
      assert.equal(parseAlarmPolicy(file).defaults.flood.quietS, 120);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the configuration knob alarmPolicy reaches the incident engine', () => {
    const config = resolveConfig({ alarmPolicy: { version: 1, defaults: { correlationWindowS: 300 } } });
    assert.equal(engineOptions(config).alarmPolicy?.defaults.correlationWindowS, 300);
    assert.equal(resolveConfig({}).alarmPolicy, DEFAULT_ALARM_POLICY);
    assert.throws(() => resolveConfig({ alarmPolicy: '{"version":1,"flood":{}}' }), (err: unknown) => err instanceof ConfigError && /alarmPolicy/.test(err.message));
  });
});

describe('board API: lane, board and drill-down', () => {
  let cloud: Cloud;
  const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  const gateway = { gatewayId: 'gw-board', site: 'sz-futian' };
  const get = async (path: string): Promise<Incident[]> => {
    const res = await fetch(`http://127.0.0.1:${cloud.httpPort}${path}`);
    assert.equal(res.status, 200, path);
    return ((await res.json()) as { incidents: Incident[] }).incidents;
  };

  before(async () => {
    cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', alarmPolicy: { version: 1, defaults: { flood: { count: 3 } } } });
    await cloud.directory.importAddressesCsv(fixture('addresses.csv'));
    await cloud.directory.importUnitsCsv(fixture('units.csv'));
    await cloud.directory.importRulesCsv(fixture('rules.csv'));
    await cloud.gateways.addGateway({ ...gateway, secret: 'board-secret-1' });
    const engine = engineOptions(resolveConfig({ alarmPolicy: { version: 1, defaults: { flood: { count: 3 } } } }));
    const events = [
      alarmEvent(gateway.gatewayId, 1, { deviceId: 'tamper-1', alarmType: 'tamper', level: 3, addressId: 'FT-0003-0101' }),
      ...[2, 3, 4, 5].map((seq) => alarmEvent(gateway.gatewayId, seq, { deviceId: `flt-${seq}`, alarmType: 'fault', level: 3, addressId: 'FT-0004-0101' })),
    ];
    await cloud.store.transaction((tx) => applyEvents(tx, gateway, events, engine));
  });
  after(async () => cloud.stop());

  test('lane=maintenance is the installer queue; board=true shows the flood as one item; groupId drills down', async () => {
    const all = await get('/api/v1/incidents');
    assert.ok(all.every((i) => i.lane === 'maintenance'), JSON.stringify(all.map((i) => [i.alarmType, i.lane])));
    assert.equal((await get('/api/v1/incidents?lane=maintenance')).length, 6, 'tamper, four faults and their flood notice');
    assert.equal((await get('/api/v1/incidents?lane=emergency')).length, 0);
    const board = await get('/api/v1/incidents?board=true');
    const notice = board.find((i) => i.kind === 'flood');
    assert.ok(notice, 'the flood notice is on the board');
    assert.equal(notice.alarmType, 'maintenance_flood', 'a burst of faults is a maintenance flood');
    assert.equal(notice.memberCount, 4, 'the three before the threshold (retroactively) and the fourth');
    assert.deepEqual(board.filter((i) => i.kind !== 'flood').map((i) => i.alarmType), ['tamper'], 'folded faults left the board');
    const members = await get(`/api/v1/incidents?groupId=${notice.id}`);
    assert.deepEqual(members.map((m) => m.deviceId).sort(), ['flt-2', 'flt-3', 'flt-4', 'flt-5']);
  });
});
