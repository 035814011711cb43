// Which reads poll a device: the profile's points grouped per table and coalesced into contiguous
// requests (after EdgeX's aggregateReadRequests), each within the protocol's quantity limit.
import { modbusWidth, type ModbusProfile, type ModbusTable } from '@gridwatch/firmware-profiles';
import { MAX_READ_BITS, MAX_READ_REGISTERS } from './address.ts';
import type { ReadRequest } from './frames.ts';

const TABLE_ORDER: ModbusTable[] = ['coil', 'discrete', 'holding', 'input'];

export function planReads(profile: ModbusProfile): ReadRequest[] {
  const limits = profile.modbus ?? {};
  const maxGap = limits.maxGap ?? 0;
  const reads: ReadRequest[] = [];
  for (const table of TABLE_ORDER) {
    const max = table === 'coil' || table === 'discrete' ? (limits.maxBitsPerRead ?? MAX_READ_BITS) : (limits.maxRegistersPerRead ?? MAX_READ_REGISTERS);
    const spans = profile.points
      .filter((p) => p.table === table)
      .map((p) => ({ start: p.address, end: p.address + modbusWidth(p) }))
      .sort((a, b) => a.start - b.start || a.end - b.end);
    let current: { start: number; end: number } | null = null;
    for (const span of spans) {
      if (current && span.start <= current.end + maxGap && Math.max(current.end, span.end) - current.start <= max) {
        current.end = Math.max(current.end, span.end);
        continue;
      }
      if (current) reads.push({ table, address: current.start, count: current.end - current.start });
      current = { ...span };
    }
    if (current) reads.push({ table, address: current.start, count: current.end - current.start });
  }
  return reads;
}
