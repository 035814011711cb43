// The Modbus driver against real peers: simulated slaves on a socat pty at 9600 baud (with the
// line's character timing) and a Modbus TCP simulator. A dead slave must not starve the others;
// CRC errors, short frames and exceptions are counted per device, never crash or stall the bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim, PtyPair, RtuLineSim } from '@gridwatch/sim';
import { ModbusDriver, createMetrics, isRegisterFrame, type BoundDevice, type ModbusBusConfig, type RawFrame, type RegisterFrame } from '../src/index.ts';
import { captureLogger, eventually } from './helpers.ts';

const profiles = loadProfiles();
const smoke = profiles.profiles.get('generic/smoke-modbus')!.profile as ModbusProfile;
const siren = profiles.profiles.get('generic/siren-relay-modbus')!.profile as ModbusProfile;

function bound(id: string, bus: string, unitId: number, pollIntervalMs: number, profile: ModbusProfile = smoke): BoundDevice {
  return { device: { id, profile: profile.id, modbus: { bus, unitId, pollIntervalMs } }, profile };
}

async function metricsText(metrics: ReturnType<typeof createMetrics>): Promise<string> {
  return metrics.registry.metrics();
}

test('RTU over a pty: with one of three slaves silent, the other two keep >= 90 % of their poll rate', async () => {
  const pty = new PtyPair();
  await pty.start();
  const sims = [1, 2, 3].map((unitId) => new ModbusDeviceSim({ unitId, profile: smoke }));
  sims[0]!.set('battery', 91);
  sims[1]!.set('battery', 92);
  sims[2]!.setScenario('silent');
  const line = new RtuLineSim({ path: pty.b, baudRate: 9600, turnaroundMs: 5, devices: sims });
  await line.start();
  const { logger, lines } = captureLogger();
  const metrics = createMetrics(() => 0);
  const frames: RawFrame[] = [];
  const interval = 250;
  const bus: ModbusBusConfig = { id: 'rtu0', kind: 'rtu', path: pty.a, baudRate: 9600, timeoutMs: 150, retries: 1, faultyAfter: 2 };
  const driver = new ModbusDriver({
    buses: [bus],
    devices: [bound('smoke-a', 'rtu0', 1, interval), bound('smoke-b', 'rtu0', 2, interval), bound('smoke-dead', 'rtu0', 3, interval)],
    logger,
    metrics,
  });
  try {
    // Register frames only: link-status frames (supervision) are tested in modbus-supervision.test.ts.
    await driver.start((frame) => isRegisterFrame(frame) && frames.push(frame));
    // Measure after a settling second, over four seconds.
    await new Promise((r) => setTimeout(r, 1000));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const to = Date.now();
    const expected = (to - from) / interval;
    for (const id of ['smoke-a', 'smoke-b']) {
      const polls = frames.filter((f) => f.deviceId === id && f.t >= from && f.t < to).length;
      assert.ok(polls >= 0.9 * expected, `${id}: ${polls} polls in ${to - from} ms, expected >= ${(0.9 * expected).toFixed(1)}`);
    }
    assert.equal(frames.filter((f) => f.deviceId === 'smoke-dead').length, 0);
    const first = frames.find((f) => f.deviceId === 'smoke-a') as RegisterFrame;
    assert.deepEqual(first.blocks, [{ table: 'input', address: 0, values: [0, 0, 91, 0] }], 'one coalesced FC4 read of 4 registers');

    const stats = driver.stats().rtu0!;
    assert.equal(stats.devices['smoke-dead']?.faulty, true);
    assert.ok((stats.devices['smoke-dead']?.errors.timeout ?? 0) >= 2);
    const text = await metricsText(metrics);
    assert.match(text, /^gridwatch_edge_device_faulty\{device="smoke-dead"\} 1$/m);
    assert.match(text, /^gridwatch_edge_device_errors_total\{device="smoke-dead",kind="timeout"\} \d+$/m);
    assert.match(text, /^gridwatch_edge_bus_requests_total\{bus="rtu0"\} \d+$/m);
    assert.match(text, /^gridwatch_edge_bus_utilisation_ratio\{bus="rtu0"\} 0\.\d+$/m);
    // Logged once per burst, not once per timeout.
    assert.equal(lines.filter((l) => l.msg === 'device error' && l.deviceId === 'smoke-dead').length, 1);

    // The dead slave comes back: it recovers on its next (backed-off) poll.
    sims[2]!.setScenario('normal');
    await driver.read(['smoke-dead']);
    await eventually('dead slave recovers', () => frames.some((f) => f.deviceId === 'smoke-dead'), 3000);
    assert.equal(driver.stats().rtu0!.devices['smoke-dead']?.faulty, false);
    assert.ok(lines.some((l) => l.msg === 'device answering again' && l.deviceId === 'smoke-dead'));
  } finally {
    await driver.stop();
    await line.stop();
    await pty.stop();
  }
});

test('RTU bad input: CRC errors and exceptions are counted per device, the bus keeps polling the others', async () => {
  const pty = new PtyPair();
  await pty.start();
  const good = new ModbusDeviceSim({ unitId: 1, profile: smoke });
  const noisy = new ModbusDeviceSim({ unitId: 2, profile: smoke });
  const refusing = new ModbusDeviceSim({ unitId: 4, profile: smoke });
  noisy.setScenario('corrupt');
  refusing.setScenario('exception');
  const line = new RtuLineSim({ path: pty.b, baudRate: 19200, devices: [good, noisy, refusing] });
  await line.start();
  const { logger } = captureLogger();
  const metrics = createMetrics(() => 0);
  const frames: RawFrame[] = [];
  const driver = new ModbusDriver({
    buses: [{ id: 'rtu1', kind: 'rtu', path: pty.a, baudRate: 19200, timeoutMs: 150, retries: 1, faultyAfter: 2, maxBackoffMs: 400 }],
    devices: [bound('good', 'rtu1', 1, 100), bound('noisy', 'rtu1', 2, 100), bound('refusing', 'rtu1', 4, 100)],
    logger,
    metrics,
  });
  try {
    // Register frames only: link-status frames (supervision) are tested in modbus-supervision.test.ts.
    await driver.start((frame) => isRegisterFrame(frame) && frames.push(frame));
    await eventually('errors of both kinds', () => {
      const s = driver.stats().rtu1!.devices;
      return (s.noisy?.errors.crc ?? 0) >= 2 && (s.refusing?.errors.exception ?? 0) >= 2;
    });
    const before = frames.filter((f) => f.deviceId === 'good').length;
    await eventually('good device still polled', () => frames.filter((f) => f.deviceId === 'good').length >= before + 5);
    const stats = driver.stats().rtu1!.devices;
    assert.equal(stats.noisy?.faulty, true);
    assert.equal(stats.refusing?.faulty, true);
    assert.equal(stats.refusing?.errors.exception, stats.refusing?.failures, 'an exception is not retried');
    const text = await metricsText(metrics);
    assert.match(text, /^gridwatch_edge_device_errors_total\{device="noisy",kind="crc"\} \d+$/m);
    assert.match(text, /^gridwatch_edge_device_errors_total\{device="refusing",kind="exception"\} \d+$/m);
    assert.equal(frames.filter((f) => f.deviceId !== 'good').length, 0);
    // The line heals: the noisy device answers again and is no longer faulty.
    noisy.setScenario('normal');
    await eventually('noisy recovers', () => frames.some((f) => f.deviceId === 'noisy'), 3000);
  } finally {
    await driver.stop();
    await line.stop();
    await pty.stop();
  }
});

test('Modbus TCP: short frames and slow answers time out and are counted; a write jumps the poll queue', async () => {
  const relay = new ModbusDeviceSim({ unitId: 5, profile: siren });
  const broken = new ModbusDeviceSim({ unitId: 6, profile: smoke });
  const slow = new ModbusDeviceSim({ unitId: 7, profile: smoke });
  broken.setScenario('corrupt');
  slow.setScenario('slow');
  slow.slowMs = 400;
  const server = new ModbusTcpSim({ devices: [relay, broken, slow] });
  await server.start();
  const { logger } = captureLogger();
  const frames: RawFrame[] = [];
  const driver = new ModbusDriver({
    buses: [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: server.port, timeoutMs: 150, retries: 0, faultyAfter: 2, maxBackoffMs: 1000 }],
    devices: [bound('siren-1', 'tcp0', 5, 200, siren), bound('broken', 'tcp0', 6, 200), bound('slow', 'tcp0', 7, 200)],
    logger,
  });
  try {
    // Register frames only: link-status frames (supervision) are tested in modbus-supervision.test.ts.
    await driver.start((frame) => isRegisterFrame(frame) && frames.push(frame));
    await eventually('siren polled', () => frames.some((f) => f.deviceId === 'siren-1'));
    await driver.write('siren-1', [{ point: 'siren', value: true }]);
    assert.deepEqual(relay.getRaw('coil', 0, 2), [1, 0]);
    await eventually('siren read back on', () => {
      const last = frames.filter((f): f is RegisterFrame => f.deviceId === 'siren-1' && 'blocks' in f).at(-1);
      return last?.blocks.find((b) => b.table === 'coil')?.values[0] === 1;
    });
    await assert.rejects(driver.write('siren-1', [{ point: 'power_fault', value: true }]), /not writable/);
    await assert.rejects(driver.write('nobody', [{ point: 'siren', value: true }]), /not a Modbus device/);
    await eventually('bad devices counted', () => {
      const s = driver.stats().tcp0!.devices;
      return (s.broken?.errors.timeout ?? 0) >= 2 && (s.slow?.errors.timeout ?? 0) >= 2;
    });
    const sirenPolls = frames.filter((f) => f.deviceId === 'siren-1').length;
    await eventually('siren keeps being polled', () => frames.filter((f) => f.deviceId === 'siren-1').length >= sirenPolls + 3);
  } finally {
    await driver.stop();
    await server.stop();
  }
});
