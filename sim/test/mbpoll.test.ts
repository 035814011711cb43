// mbpoll (libmodbus) is an independent Modbus master: if it reads the simulators correctly, they
// speak standard Modbus TCP and RTU, not just a dialect our own driver happens to share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ModbusDeviceSim, ModbusTcpSim, PtyPair, RtuLineSim } from '../src/index.ts';

const run = promisify(execFile);

/** mbpoll prints one `[ref]: value` line per register. */
function values(stdout: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) out[Number(m[1])] = Number(m[2]);
  return out;
}

test('mbpoll reads holding and input registers and coils from the Modbus TCP simulator', async () => {
  const device = new ModbusDeviceSim({ unitId: 7, size: 32 });
  device.setRaw('holding', 0, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  device.setRaw('input', 4, [4242, 65535]);
  device.setRaw('coil', 0, [1, 0, 1]);
  const sim = new ModbusTcpSim({ devices: [device] });
  await sim.start();
  try {
    const base = ['-m', 'tcp', '-p', String(sim.port), '-a', '7', '-0', '-1', '-o', '2'];
    const holding = await run('mbpoll', [...base, '-t', '4', '-r', '0', '-c', '10', '127.0.0.1']);
    assert.deepEqual(values(holding.stdout), { 0: 100, 1: 101, 2: 102, 3: 103, 4: 104, 5: 105, 6: 106, 7: 107, 8: 108, 9: 109 });
    const input = await run('mbpoll', [...base, '-t', '3', '-r', '4', '-c', '2', '127.0.0.1']);
    assert.deepEqual(values(input.stdout), { 4: 4242, 5: 65535 });
    const coils = await run('mbpoll', [...base, '-t', '0', '-r', '0', '-c', '3', '127.0.0.1']);
    assert.deepEqual(values(coils.stdout), { 0: 1, 1: 0, 2: 1 });
    // A write from mbpoll lands in the simulator's table.
    await run('mbpoll', [...base.filter((a) => a !== '-1'), '-t', '4', '-r', '20', '127.0.0.1', '--', '555']);
    assert.deepEqual(device.getRaw('holding', 20, 1), [555]);
  } finally {
    await sim.stop();
  }
});

test('mbpoll reads the Modbus RTU simulator over a socat pty at 9600 baud', async () => {
  const pty = new PtyPair();
  await pty.start();
  const a = new ModbusDeviceSim({ unitId: 1, size: 16 });
  const b = new ModbusDeviceSim({ unitId: 2, size: 16 });
  a.setRaw('input', 0, [11, 22, 33]);
  b.setRaw('holding', 3, [7, 8]);
  const line = new RtuLineSim({ path: pty.b, baudRate: 9600, devices: [a, b] });
  await line.start();
  try {
    const base = ['-m', 'rtu', '-b', '9600', '-P', 'none', '-0', '-1', '-o', '2'];
    const first = await run('mbpoll', [...base, '-a', '1', '-t', '3', '-r', '0', '-c', '3', pty.a]);
    assert.deepEqual(values(first.stdout), { 0: 11, 1: 22, 2: 33 });
    const second = await run('mbpoll', [...base, '-a', '2', '-t', '4', '-r', '3', '-c', '2', pty.a]);
    assert.deepEqual(values(second.stdout), { 3: 7, 4: 8 });
  } finally {
    await line.stop();
    await pty.stop();
  }
});
