// The frame splitter and checker for the three length rules and the three checksums, with noise,
// truncated frames and frames split across reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFrame, crc16Modbus, sealFrame, sum8, xor8, type Framing } from '@gridwatch/firmware-profiles';
import { FrameSplitter } from '../src/index.ts';

test('checksums match published check values', () => {
  const check = Buffer.from('123456789', 'ascii');
  assert.equal(crc16Modbus(check), 0x4b37); // CRC-16/MODBUS check value
  assert.equal(xor8(Buffer.from([0x01, 0x45, 0x06])), 0x42);
  assert.equal(sum8(Buffer.from([0xff, 0x02, 0x03])), 0x04);
});

test('delimiter framing with sum-8: noise before a frame is skipped and counted', () => {
  const framing: Framing = { start: '3A', end: '0D 0A', length: { kind: 'delimiter' }, checksum: { kind: 'sum8', from: 1 } };
  const frame = sealFrame(framing, Buffer.from([0x3a, 0x31, 0x32, 0x00, 0x0d, 0x0a]));
  assert.deepEqual(checkFrame(framing, frame), { ok: true });
  const splitter = new FrameSplitter(framing);
  const { frames, errors } = splitter.push(Buffer.concat([Buffer.from([0x55, 0x66]), frame, frame.subarray(0, 3)]));
  assert.deepEqual(frames, [frame]);
  assert.deepEqual(errors, ['garbage']);
  assert.deepEqual(splitter.push(frame.subarray(3)).frames, [frame], 'a frame split across reads is joined');
});

test('fixed-length framing with CRC-16/MODBUS', () => {
  const framing: Framing = { length: { kind: 'fixed', bytes: 6 }, checksum: { kind: 'crc16_modbus' } };
  const frame = sealFrame(framing, Buffer.from([0x01, 0x02, 0x03, 0x04, 0, 0]));
  assert.deepEqual(checkFrame(framing, frame), { ok: true });
  const bad = Buffer.from(frame);
  bad[1] = 0xff;
  assert.match((checkFrame(framing, bad) as { reason: string }).reason, /checksum mismatch \(crc16_modbus/);
  assert.deepEqual(new FrameSplitter(framing).push(Buffer.concat([frame, frame])).frames, [frame, frame]);
});

test('length-prefixed framing with XOR: a truncated frame is dropped and the next one found', () => {
  const framing: Framing = { start: '02', end: '03', length: { kind: 'prefixed', offset: 1, size: 1, adjust: 2 }, checksum: { kind: 'xor', from: 1 } };
  const frame = sealFrame(framing, Buffer.from([0x02, 0x03, 0xaa, 0xbb, 0xcc, 0x00, 0x03]));
  assert.deepEqual(checkFrame(framing, frame), { ok: true });
  const splitter = new FrameSplitter(framing);
  const { frames, errors } = splitter.push(Buffer.concat([frame.subarray(0, 4), frame]));
  assert.deepEqual(frames, [frame]);
  assert.ok(errors.includes('short'));
  assert.match((checkFrame(framing, frame.subarray(0, 5)) as { reason: string }).reason, /end bytes|short frame/);
  const oversize = new FrameSplitter({ ...framing, maxBytes: 8 }).push(Buffer.from([0x02, 0xf0, 0x00]));
  assert.equal(oversize.errors[0], 'oversize');
});
