// Supervision in the rule engine and the bus: the bus's verdict on a polled device drives its
// heartbeat rule at once; a partial answer does not clear a link the bus still calls lost; the
// verdict survives a restart and the first answer after it clears it; a poll cycle ends only when
// its events are committed, without holding up other devices or writes on the bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles, type ModbusProfile, type Profile } from '@gridwatch/firmware-profiles';
import type { Reading } from '@gridwatch/protocol';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import { MemoryRuleStore, ModbusDriver, RuleEngine, isLinkFrame, isRegisterFrame, type BoundDevice, type Clock, type RawFrame } from '../src/index.ts';
import { captureLogger, eventually } from './helpers.ts';

const profiles = loadProfiles();
const smoke = profiles.profiles.get('generic/smoke-modbus')!.profile as ModbusProfile;
const siren = profiles.profiles.get('generic/siren-relay-modbus')!.profile as ModbusProfile;

const clock = (): Clock & { t: number } => ({ t: Date.UTC(2026, 0, 1), now() { return this.t; } });
const report = (deviceId: string, t: number): Reading[] => [{ deviceId, point: 'battery', value: 90, t }];
const summary = (events: Array<{ alarmType: string; action: string }>) => events.map((e) => `${e.alarmType}:${e.action}`);

test('the bus verdict drives device_offline at once; a report does not clear it while the bus calls the link lost', () => {
  const c = clock();
  const store = new MemoryRuleStore();
  const engine = new RuleEngine({ devices: [{ deviceId: 's1', profile: smoke as Profile }], store, clock: c }).init();
  assert.deepEqual(engine.evaluate('s1', report('s1', c.t), c.t), []);
  c.t += 2000;
  assert.deepEqual(summary(engine.linkStatus('s1', true, c.t)), ['device_offline:raise'], 'raised at once, not after 3 × 60 s');
  assert.deepEqual(engine.linkStatus('s1', true, c.t), [], 'a repeated verdict changes nothing');
  // Some registers answered while another read keeps failing: still offline.
  assert.deepEqual(engine.evaluate('s1', report('s1', c.t), c.t), []);
  assert.deepEqual(engine.tick(c.t + 1000), [], 'the time-out path does not clear it either');
  engine.persist(true);

  // Restart: the verdict was persisted; the restarted bus's first answer reports the link ok.
  const restarted = new RuleEngine({ devices: [{ deviceId: 's1', profile: smoke as Profile }], store, clock: c }).init();
  assert.ok(restarted.isActive('s1', 'device_offline'));
  assert.deepEqual(restarted.evaluate('s1', report('s1', c.t), c.t), [], 'a report alone does not clear a lost link');
  assert.deepEqual(summary(restarted.linkStatus('s1', false, c.t)), ['device_offline:clear']);
  assert.deepEqual(restarted.linkStatus('s1', false, c.t), []);
  // Without a bus verdict the heartbeat time-out still supervises: 3 × 60 s of silence.
  assert.deepEqual(restarted.tick(c.t + 179_000), []);
  assert.deepEqual(summary(restarted.tick(c.t + 180_000)), ['device_offline:raise']);
});

function bound(id: string, unitId: number, profile: ModbusProfile): BoundDevice {
  return { device: { id, profile: profile.id, modbus: { bus: 'tcp0', unitId, pollIntervalMs: 50 } }, profile };
}

test('a poll cycle ends when its events are committed; the bus keeps polling others and writing meanwhile', async () => {
  const detector = new ModbusDeviceSim({ unitId: 1, profile: smoke });
  const relay = new ModbusDeviceSim({ unitId: 2, profile: siren });
  const sim = new ModbusTcpSim({ devices: [detector, relay] });
  await sim.start();
  const frames: RawFrame[] = [];
  let release: (() => void) | null = null;
  const commit = new Promise<void>((resolve) => (release = resolve));
  const driver = new ModbusDriver({
    buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 300 }],
    devices: [bound('smoke-1', 1, smoke), bound('siren-1', 2, siren)],
    logger: captureLogger().logger,
  });
  try {
    // The detector's first poll result is "not committed yet"; every other frame commits at once.
    await driver.start((frame) => {
      frames.push(frame);
      return frame.deviceId === 'smoke-1' && isRegisterFrame(frame) ? commit : undefined;
    });
    const polls = (id: string) => frames.filter((f) => f.deviceId === id && isRegisterFrame(f)).length;
    await eventually('the detector polled once', () => polls('smoke-1') === 1);
    const sirenBefore = polls('siren-1');
    await driver.write('siren-1', [{ point: 'siren', value: true }]);
    await eventually('the relay polled on', () => polls('siren-1') >= sirenBefore + 5);
    assert.equal(polls('smoke-1'), 1, 'no new poll of the detector while its last one is uncommitted');
    assert.deepEqual(relay.getRaw('coil', 0, 1), [1], 'the write went through meanwhile');
    release!();
    await eventually('the detector polled again after the commit', () => polls('smoke-1') >= 3);
    assert.ok(frames.some((f) => f.deviceId === 'smoke-1' && isLinkFrame(f) && f.link === 'ok'), 'the first answer after start reports the link ok');
  } finally {
    await driver.stop();
    await sim.stop();
  }
});
