// One simulated 9600-baud RTU line (socat pty, the simulator applying the line's character
// timing), 30 devices × 10 holding registers, polled as fast as the bus allows. The bus limit is
// computed from the frames: per poll an 8-byte request and a 25-byte answer (3 + 2×10 + 2), two
// 3.5-character gaps (after the request, before the next one) and the simulated turnaround, at
// 11 bits per character (MODBUS over Serial Line V1.02 §2.5.1).
import { pino } from 'pino';
import { parseProfile, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDriver, RTU_READ_REQUEST_BYTES, rtuReadResponseBytes, type BoundDevice } from '@gridwatch/edge';
import { ModbusDeviceSim, PtyPair, RtuLineSim, rtuPollTimeMs } from '@gridwatch/sim';
import { report } from './report.ts';

const BAUD = 9600;
const DEVICES = 30;
const REGISTERS = 10;
const TURNAROUND_MS = 5;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

const profile = parseProfile(
  {
    id: 'bench/ten-registers',
    version: '1.0.0',
    name: 'ten holding registers',
    class: 'io_module',
    transport: 'modbus',
    heartbeatSeconds: 60,
    points: Array.from({ length: REGISTERS }, (_, i) => ({ name: `r${i}`, table: 'holding', address: i, type: 'number', unit: 'none' })),
    rules: [],
  },
  'bench',
) as ModbusProfile;

const pty = new PtyPair();
await pty.start();
const sims = Array.from({ length: DEVICES }, (_, i) => {
  const sim = new ModbusDeviceSim({ unitId: i + 1, profile });
  sim.setRaw('holding', 0, Array.from({ length: REGISTERS }, (_, r) => i * 100 + r));
  return sim;
});
const line = new RtuLineSim({ path: pty.b, baudRate: BAUD, turnaroundMs: TURNAROUND_MS, devices: sims });
await line.start();

const devices: BoundDevice[] = sims.map((s) => ({ device: { id: `dev-${s.unitId}`, profile: profile.id, modbus: { bus: 'rtu0', unitId: s.unitId, pollIntervalMs: 50 } }, profile }));
let polls = 0;
let counting = false;
const driver = new ModbusDriver({
  buses: [{ id: 'rtu0', kind: 'rtu', path: pty.a, baudRate: BAUD, timeoutMs: 500, retries: 1 }],
  devices,
  logger: pino({ level: 'warn' }),
});
await driver.start(() => {
  if (counting) polls++;
});
await new Promise((r) => setTimeout(r, 2000));
counting = true;
const started = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
counting = false;
const seconds = (performance.now() - started) / 1000;
const errors = driver.stats().rtu0!.errors;
await driver.stop();
await line.stop();
await pty.stop();

const pollsPerS = polls / seconds;
const limit = 1000 / rtuPollTimeMs(BAUD, RTU_READ_REQUEST_BYTES, rtuReadResponseBytes('holding', REGISTERS), TURNAROUND_MS);
console.log(`${polls} polls of ${REGISTERS} registers from ${DEVICES} devices in ${seconds.toFixed(1)} s at ${BAUD} baud, ${errors} errors`);
report('modbus-rtu-bus', [
  { metric: 'polls_per_s', value: pollsPerS, unit: 'polls/s' },
  { metric: 'bus_limit_polls_per_s', value: limit, unit: 'polls/s' },
  { metric: 'bus_limit_ratio', value: pollsPerS / limit, unit: 'ratio' },
]);
