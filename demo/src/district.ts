// The demo district from data files (demo/district/): address book with text addresses, place
// names and jurisdiction names, units with names, routing rules, the acknowledgement policy and
// console users. Imports are upserts (rules are replaced), so loading at every start is idempotent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UserError, type Cloud, type CloudConfigInput } from '@gridwatch/cloud';

export const DISTRICT_DIR = join(import.meta.dirname, '..', 'district');

const file = (name: string): string => readFileSync(join(DISTRICT_DIR, name), 'utf8');

export function csvRows(name: string): Record<string, string>[] {
  return parse(file(name), { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
}

/** Deadlines and auto-close types: the cloud configuration the district runs with. */
export function policy(): Pick<CloudConfigInput, 'deadlines' | 'autoCloseTypes'> {
  const raw = JSON.parse(file('policy.json')) as { deadlines: CloudConfigInput['deadlines']; autoCloseTypes: string[] };
  return { deadlines: raw.deadlines, autoCloseTypes: raw.autoCloseTypes };
}

export interface DemoUser {
  username: string;
  password: string;
  role: string;
  jurisdiction: string;
  displayName: string;
}

export function users(): DemoUser[] {
  return csvRows('users.csv').map((r) => ({ username: r.username!, password: r.password!, role: r.role!, jurisdiction: r.jurisdiction!, displayName: r.display_name! }));
}

export interface LoadedDistrict {
  addresses: number;
  units: number;
  rules: number;
}

export async function loadDistrict(cloud: Cloud): Promise<LoadedDistrict> {
  const loaded = {
    addresses: await cloud.directory.importAddressesCsv(file('addresses.csv')),
    units: await cloud.directory.importUnitsCsv(file('units.csv')),
    rules: await cloud.directory.importRulesCsv(file('rules.csv')),
  };
  for (const u of users()) {
    await cloud.directory.addUser({ username: u.username, password: u.password, role: u.role, jurisdictions: [u.jurisdiction], displayName: u.displayName }).catch((err: unknown) => {
      if (!(err instanceof UserError)) throw err; // kept from an earlier start (data persists)
    });
  }
  return loaded;
}
