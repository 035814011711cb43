// Commissioning records: what `read` and `test` found per device, kept in <dataDir>/commissioning.json
// for `report` and `device show`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigFile } from './config-file.ts';

export interface TestResult {
  at: number;
  passed: boolean;
  roundTripMs: number | null;
  uplinkMs: number | null;
  eventId: string | null;
  community: string | null;
  grid: string | null;
  unit: { id: string; name: string; tier: string } | null;
  error?: string;
}

export interface DeviceRecord {
  deviceId: string;
  readBack?: { at: number; values: Record<string, unknown> };
  test?: TestResult;
}

function recordsFile(cf: ConfigFile): string {
  return join(cf.config.dataDir, 'commissioning.json');
}

export function loadRecords(cf: ConfigFile): Record<string, DeviceRecord> {
  const file = recordsFile(cf);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, DeviceRecord>) : {};
}

export function saveRecord(cf: ConfigFile, record: DeviceRecord): void {
  const all = loadRecords(cf);
  all[record.deviceId] = { ...all[record.deviceId], ...record };
  mkdirSync(cf.config.dataDir, { recursive: true });
  writeFileSync(recordsFile(cf), `${JSON.stringify(all, null, 2)}\n`);
}
