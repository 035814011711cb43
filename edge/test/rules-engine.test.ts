// The rule engine on a fake clock: inactivity (welfare check after 12 h without water), continuous
// flow (suspected leak), heartbeat loss, delays, latching with reset, rate + combination,
// chattering, test mode, state that survives a restart, and overrides refused at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles, type Profile, type Rule } from '@gridwatch/firmware-profiles';
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import { MemoryRuleStore, RuleEngine, SqliteOutbox, SqliteRuleStore, bindDevices, createMetrics, createPipeline, openDatabase, resolveConfig, type Clock } from '../src/index.ts';
import { captureLogger, tempDir } from './helpers.ts';

const profiles = loadProfiles();
const profile = (id: string): Profile => profiles.profiles.get(id)!.profile;
const HOUR = 3_600_000;

class FakeClock implements Clock {
  t = Date.UTC(2025, 0, 1, 8);
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

function readings(deviceId: string, t: number, values: Record<string, ReadingValue>): Reading[] {
  return Object.entries(values).map(([point, value]) => ({ deviceId, point, value, t }));
}

function summary(events: Array<{ alarmType: string; action: string }>): string[] {
  return events.map((e) => `${e.alarmType}:${e.action}`);
}

test('water meter: under 0.01 m³ in 12 h raises a welfare check (fake clock); use clears it', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 'wm-1', profile: profile('generic/water-meter-modbus') }], store: new MemoryRuleStore(), clock }).init();
  assert.deepEqual(engine.evaluate('wm-1', readings('wm-1', clock.now(), { total_volume: 100, flow_rate: 0 }), clock.now()), []);
  // Reports every 15 min for 12 h; the counter creeps by 0.001 m³ each time (a dripping tap is not use).
  let volume = 100;
  const events = [];
  for (let i = 1; i <= 48; i++) {
    clock.advance(15 * 60_000);
    volume += 0.0001;
    events.push(...engine.evaluate('wm-1', readings('wm-1', clock.now(), { total_volume: volume, flow_rate: 0 }), clock.now()), ...engine.tick());
  }
  assert.deepEqual(summary(events), ['welfare_check:raise']);
  const raise = events[0]!;
  assert.equal(raise.level, 2);
  assert.equal(raise.edgeTime, Date.UTC(2025, 0, 1, 20));
  assert.match(raise.reason, /12 h/);
  clock.advance(60_000);
  assert.deepEqual(summary(engine.evaluate('wm-1', readings('wm-1', clock.now(), { total_volume: volume + 0.02 }), clock.now())), ['welfare_check:clear']);
});

test('water meter: the clock alone raises the welfare check when the meter reports nothing new', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 'wm-1', profile: profile('generic/water-meter-modbus') }], store: new MemoryRuleStore(), clock }).init();
  engine.evaluate('wm-1', readings('wm-1', clock.now(), { total_volume: 5 }), clock.now());
  clock.advance(12 * HOUR - 1000);
  assert.deepEqual(summary(engine.tick()), ['device_offline:raise'], 'only the heartbeat after 45 min of silence');
  clock.advance(1000);
  assert.deepEqual(summary(engine.tick()), ['welfare_check:raise']);
});

test('water meter: flow in every half hour for 24 h is a suspected leak; a dry half hour clears it', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 'wm-1', profile: profile('generic/water-meter-modbus') }], store: new MemoryRuleStore(), clock }).init();
  let volume = 10;
  const events = [];
  for (let i = 0; i < 24 * 4; i++) {
    volume += 0.05;
    events.push(...engine.evaluate('wm-1', readings('wm-1', clock.now(), { total_volume: volume, flow_rate: 0.2 }), clock.now()));
    clock.advance(15 * 60_000);
  }
  assert.deepEqual(summary(events), ['suspected_leak:raise']);
  clock.advance(HOUR);
  assert.deepEqual(summary(engine.tick()), ['suspected_leak:clear', 'device_offline:raise']);
});

const gasRules = (extra: Partial<Rule>): Rule[] => [
  { kind: 'threshold', point: 'gas_concentration', alarmType: 'gas_low', op: '>=', limit: 25, deadband: 3, level: 2, reason: 'gas', ...extra } as Rule,
];

test('on-delay and off-delay: a blip shorter than the delay raises nothing', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 'g', profile: profile('generic/gas-lel-modbus'), rules: gasRules({ onDelaySeconds: 5, offDelaySeconds: 10 }) }], store: new MemoryRuleStore(), clock }).init();
  const at = (v: number) => engine.evaluate('g', readings('g', clock.now(), { gas_concentration: v }), clock.now());
  assert.deepEqual(at(30), []);
  clock.advance(3000);
  assert.deepEqual(at(10), [], 'cleared before the on-delay ran out');
  assert.deepEqual(at(30), []);
  clock.advance(5000);
  assert.deepEqual(summary(engine.tick()), ['gas_low:raise']);
  assert.deepEqual(at(10), []);
  clock.advance(9000);
  assert.deepEqual(engine.tick(), []);
  clock.advance(1000);
  assert.deepEqual(summary(engine.tick()), ['gas_low:clear']);
});

test('latching: stays raised after the condition is gone until a reset command', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 'g', profile: profile('generic/gas-lel-modbus'), rules: gasRules({ latching: true }) }], store: new MemoryRuleStore(), clock }).init();
  const at = (v: number) => summary(engine.evaluate('g', readings('g', clock.now(), { gas_concentration: v }), clock.now()));
  assert.deepEqual(at(30), ['gas_low:raise']);
  assert.deepEqual(at(5), []);
  assert.equal(engine.isActive('g', 'gas_low'), true);
  assert.deepEqual(summary(engine.reset('g')), ['gas_low:clear']);
  assert.deepEqual(at(30), ['gas_low:raise']);
  assert.deepEqual(summary(engine.reset('g')), [], 'reset while the gas is still there keeps the alarm');
  assert.deepEqual(at(5), ['gas_low:clear']);
});

test('chattering: more than 3 raise/clear cycles in a minute become one event flagged chattering', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 's', profile: profile('generic/smoke-mqtt') }], store: new MemoryRuleStore(), clock }).init();
  const events = [];
  for (let i = 0; i < 20; i++) {
    clock.advance(1000);
    events.push(...engine.evaluate('s', readings('s', clock.now(), { smoke_alarm: i % 2 === 0 }), clock.now()));
  }
  assert.deepEqual(summary(events), ['smoke:raise', 'smoke:clear', 'smoke:raise', 'smoke:clear', 'smoke:raise', 'smoke:clear', 'smoke:raise']);
  assert.equal(events.at(-1)!.chattering, true);
  assert.match(events.at(-1)!.reason, /chattering/);
  assert.deepEqual(events.slice(0, -1).filter((e) => e.chattering), []);
  clock.advance(61_000);
  const end = engine.tick();
  assert.deepEqual(summary(end), ['smoke:clear']);
  assert.equal(end[0]!.chattering, true);
});

test('smoke plus a fast temperature rise raises fire_confirmed; an installer test is flagged test', () => {
  const clock = new FakeClock();
  const engine = new RuleEngine({ devices: [{ deviceId: 's', profile: profile('generic/smoke-mqtt') }], store: new MemoryRuleStore(), clock }).init();
  const at = (values: Record<string, ReadingValue>) => engine.evaluate('s', readings('s', clock.now(), values), clock.now());
  assert.deepEqual(summary(at({ temperature: 22, smoke_alarm: true })), ['smoke:raise']);
  clock.advance(30_000);
  const both = at({ temperature: 31 });
  assert.deepEqual(summary(both), ['temperature_rising:raise', 'fire_confirmed:raise']);
  assert.equal(both[1]!.level, 1);
  clock.advance(60_000);
  assert.deepEqual(summary(at({ smoke_alarm: false, temperature: 31 })), ['smoke:clear', 'temperature_rising:clear', 'fire_confirmed:clear']);
  const testEvents = at({ smoke_alarm: true, self_test: true });
  assert.deepEqual(summary(testEvents), ['smoke:raise']);
  assert.equal(testEvents[0]!.test, true);
});

test('rule state survives a restart: no second raise, the clear still comes; heartbeat loss raises device_offline', () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = new FakeClock();
    const file = join(dir, 'edge.db');
    const open = () => {
      const db = openDatabase(file);
      const outbox = new SqliteOutbox(db, 'gw-1').init();
      const engine = new RuleEngine({ devices: [{ deviceId: 'g', profile: profile('generic/gas-lel-modbus') }], store: new SqliteRuleStore(db).init(), clock }).init();
      const bound = new Map([['g', { device: { id: 'g', profile: 'generic/gas-lel-modbus' }, profile: profile('generic/gas-lel-modbus') }]]);
      const pipeline = createPipeline({ devices: bound, db, outbox, engine, telemetry: null, metrics: createMetrics(() => 0), logger: captureLogger().logger, onEvents: () => undefined });
      return { db, outbox, engine, pipeline };
    };
    let a = open();
    a.pipeline.commit(() => a.engine.evaluate('g', readings('g', clock.now(), { gas_concentration: 60 }), clock.now()));
    assert.deepEqual(summary(a.outbox.pending(10)), ['gas_high:raise', 'gas_low:raise']);
    a.db.close();
    a = open();
    assert.deepEqual(a.pipeline.commit(() => a.engine.evaluate('g', readings('g', clock.now(), { gas_concentration: 60 }), clock.now())), []);
    a.pipeline.commit(() => a.engine.evaluate('g', readings('g', clock.now(), { gas_concentration: 0 }), clock.now()));
    clock.advance(3 * 60_000);
    a.pipeline.commit(() => a.engine.tick());
    assert.deepEqual(summary(a.outbox.pending(10)), ['gas_high:raise', 'gas_low:raise', 'gas_high:clear', 'gas_low:clear', 'device_offline:raise']);
    a.db.close();
  } finally {
    cleanup();
  }
});

test('overrides: a rule naming a missing point, an impossible threshold or an unknown device is refused at load with the path', () => {
  const base = {
    version: 1,
    gateway: { id: 'gw-r', site: 'futian' },
    dataDir: '/tmp/unused',
    cloud: { url: 'mqtt://127.0.0.1:1', password: 'pw' },
    buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: 502 }],
    devices: [
      { id: 'gas-1', profile: 'generic/gas-lel-modbus', modbus: { bus: 'tcp0', unitId: 3 }, rules: [{ alarmType: 'gas_low', limit: 20 }] },
      { id: 'siren-1', profile: 'generic/siren-relay-modbus', modbus: { bus: 'tcp0', unitId: 5 } },
    ],
    actuators: [{ when: { device: 'gas-1', alarmType: 'gas_low' }, target: { device: 'siren-1', point: 'siren' } }],
  };
  const bind = (mutate: (c: typeof base & Record<string, unknown>) => void) => {
    const raw = structuredClone(base) as typeof base & Record<string, unknown>;
    mutate(raw);
    return bindDevices(resolveConfig(raw, 'edge.yaml', '/tmp'), profiles);
  };
  const ok = bind(() => undefined);
  const lowRule = ok.get('gas-1')!.rules!.find((r) => r.alarmType === 'gas_low');
  assert.equal(lowRule?.kind === 'threshold' && lowRule.limit, 20);
  assert.throws(
    () => bind((c) => (c.devices[0]!.rules = [{ alarmType: 'gas_smell', kind: 'threshold', point: 'gas_ppm', op: '>=', limit: 5, level: 2, reason: 'x' } as never])),
    /^ConfigError: edge\.yaml: \/devices\/0\/rules\/0\/point: expected one of the profile's points .*got gas_ppm$/,
  );
  assert.throws(() => bind((c) => (c.devices[0]!.rules = [{ alarmType: 'gas_low', limit: 7000 }])), /^ConfigError: edge\.yaml: \/devices\/0\/rules\/0\/limit: impossible threshold: gas_concentration >= 7000 can never hold/);
  assert.throws(() => bind((c) => (c.actuators[0]!.target.device = 'siren-9')), /^ConfigError: edge\.yaml: \/actuators\/0\/target\/device: unknown device siren-9/);
  assert.throws(() => bind((c) => (c.actuators[0]!.when.device = 'gas-9')), /^ConfigError: edge\.yaml: \/actuators\/0\/when\/device: unknown device gas-9/);
  assert.throws(() => bind((c) => (c.rules = [{ profile: 'generic/gas-lel-modbus', alarmType: 'gas_low', deadband: -1 }])), /^ConfigError: edge\.yaml: \/rules\/0\/deadband: /);
});
