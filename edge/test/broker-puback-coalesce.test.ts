// The local broker writes the PUBACKs of reports read in one turn of the event loop in one socket
// write (GuardedSocket._writev; issue 12: one write syscall per PUBACK was ~18 % of the agent's
// wall time at saturation), and a PUBACK that waits for its commit still leaves right after that
// commit, without waiting for the device to send anything more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { MqttDriver, createMetrics, type BoundDevice, type RawFrame } from '../src/index.ts';
import { eventually } from './helpers.ts';

const profile = loadProfiles().profiles.get('generic/smoke-mqtt')!.profile;
const device: BoundDevice = { device: { id: 'smoke-1', profile: profile.id, mqtt: { username: 'smoke-1', password: 'pw-smoke-1' } }, profile } as BoundDevice;

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, body.length]), body]);
}
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0, s.length]), Buffer.from(s)]);
const connect = (): Buffer => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 0]), str('smoke-1'), str('smoke-1'), str('pw-smoke-1')]));
const publish = (id: number): Buffer => packet(0x32, Buffer.concat([str('dev/smoke-1/up'), Buffer.from([0, id]), Buffer.from('{"battery":90}')]));

/** Counts writes on the broker's side of the connection (net.Socket.prototype.write, filtered by port). */
function countServerWrites(port: number): { readonly count: number; restore: () => void } {
  const original = net.Socket.prototype.write;
  const counter = { count: 0, restore: () => void (net.Socket.prototype.write = original) };
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof original>) {
    if (this.localPort === port) counter.count++;
    return original.apply(this, args);
  } as typeof original;
  return counter;
}

async function withDevice(sink: (frame: RawFrame) => Promise<void>, run: (client: net.Socket, port: number, pubacks: number[]) => Promise<void>): Promise<void> {
  const driver = new MqttDriver({ host: '127.0.0.1', port: 0, devices: [device], logger: pino({ level: 'silent' }), metrics: createMetrics(() => 0) });
  await driver.start(sink);
  const client = net.connect(driver.port, '127.0.0.1');
  const pubacks: number[] = [];
  let connacked = false;
  client.on('data', (chunk: Buffer) => {
    for (let i = 0; i + 1 < chunk.length; i += 2 + chunk[i + 1]!) {
      if (chunk[i] === 0x20) connacked = true;
      if (chunk[i] === 0x40) pubacks.push(chunk.readUInt16BE(i + 2));
    }
  });
  try {
    await new Promise<void>((resolve) => client.once('connect', resolve));
    client.write(connect());
    await eventually('CONNACK', () => connacked);
    await run(client, driver.port, pubacks);
  } finally {
    client.destroy();
    await driver.stop();
  }
}

test('the PUBACKs of reports read together leave in one write', async () => {
  await withDevice(
    () => Promise.resolve(),
    async (client, port, pubacks) => {
      const writes = countServerWrites(port);
      try {
        client.write(Buffer.concat([1, 2, 3, 4, 5, 6, 7, 8].map(publish)));
        await eventually('8 PUBACKs', () => pubacks.length === 8);
        assert.deepEqual(pubacks, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.equal(writes.count, 1, `8 PUBACKs took ${writes.count} socket writes`);
      } finally {
        writes.restore();
      }
    },
  );
});

test('a PUBACK waiting for its commit leaves right after the commit, with nothing more from the device', async () => {
  let committedAt = 0;
  const slowCommit = (): Promise<void> =>
    new Promise((resolve) =>
      setTimeout(() => {
        committedAt = performance.now();
        resolve();
      }, 200),
    );
  await withDevice(slowCommit, async (client, _port, pubacks) => {
    client.write(publish(1));
    await sleep(100);
    assert.equal(pubacks.length, 0, 'no PUBACK before the commit');
    await eventually('the PUBACK after the commit', () => pubacks.length === 1);
    assert.ok(committedAt > 0 && performance.now() - committedAt < 150, 'the PUBACK came soon after the commit');
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
