// Address book, units and routing rules: data imported from CSV, never code. Jurisdiction is a
// tier (grid ⊂ community ⊂ street ⊂ district) plus the area code at that tier; the escalation
// ladder walks the tiers upwards from where the incident was routed.
import type { Queryable } from '../store/store.ts';
import { csvLine, csvRecords, CsvError } from './csv.ts';

export const TIERS = ['grid', 'community', 'street', 'district'] as const;
export type Tier = (typeof TIERS)[number];

/** Default unit type receiving an escalation at each tier of the ladder. */
export const LADDER_UNIT_TYPES: Record<Tier, string> = {
  grid: 'grid_worker',
  community: 'community_office',
  street: 'street_office',
  district: 'district_centre',
};

export const UNIT_TYPES = [
  'grid_worker',
  'community_office',
  'street_office',
  'district_centre',
  'fire_station',
  'property_manager',
  'health_centre',
  'police_station',
] as const;

export interface Address {
  addressId: string;
  /** Postal text staff read, e.g. 罗湖区东晓街道水贝二路12号 ('' when not imported). */
  addressText: string;
  /** Shop or household at the address, e.g. 水贝珠宝城 A12 铺 or 李阿姨家. */
  placeName: string;
  contactPhone: string;
  building: string;
  unit: string;
  floor: string;
  room: string;
  grid: string;
  community: string;
  street: string;
  district: string;
  lat: number | null;
  lon: number | null;
}

export interface Unit {
  id: string;
  name: string;
  type: string;
  tier: Tier;
  area: string;
}

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

export function nextTier(tier: Tier): Tier | null {
  const i = TIERS.indexOf(tier);
  return i >= 0 && i < TIERS.length - 1 ? (TIERS[i + 1] as Tier) : null;
}

function coordinate(line: number, name: string, text: string | undefined, limit: number): number | null {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n) || Math.abs(n) > limit) throw new CsvError(`line ${line}: ${name} is not a coordinate`);
  return n;
}

const ADDRESS_REQUIRED = ['address_id', 'building', 'grid', 'community', 'street', 'district'] as const;
/** The readable columns (address_text … district_name) came later: files without them still import. */
const ADDRESS_OPTIONAL = [
  'unit',
  'floor',
  'room',
  'lat',
  'lon',
  'address_text',
  'place_name',
  'contact_phone',
  'grid_name',
  'community_name',
  'street_name',
  'district_name',
] as const;

function phone(line: number, text: string | undefined): string {
  const value = (text ?? '').trim();
  // Digits with the separators people write (+86 755-1234 5678, 138 0013 8000); no letters.
  if (value !== '' && !/^\+?[0-9][0-9 ()-]{2,31}$/.test(value)) throw new CsvError(`line ${line}: contact_phone is not a phone number`);
  return value;
}

/** Upserts every row (and the jurisdiction names it carries); returns how many. The whole file is checked before anything is written. */
export async function importAddressesCsv(tx: Queryable, csv: string): Promise<number> {
  const records = csvRecords(csv, ADDRESS_REQUIRED, ADDRESS_OPTIONAL);
  const checked = records.map((r, i) => {
    const line = csvLine(r) ?? i + 2;
    return { lat: coordinate(line, 'lat', r.lat, 90), lon: coordinate(line, 'lon', r.lon, 180), phone: phone(line, r.contact_phone) };
  });
  for (const [i, r] of records.entries()) {
    const { lat, lon, phone: contactPhone } = checked[i]!;
    await tx.query(
      `INSERT INTO addresses (address_id, building, unit, floor, room, grid, community, street, district, lat, lon, address_text, place_name, contact_phone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (address_id) DO UPDATE SET building = EXCLUDED.building, unit = EXCLUDED.unit, floor = EXCLUDED.floor,
         room = EXCLUDED.room, grid = EXCLUDED.grid, community = EXCLUDED.community, street = EXCLUDED.street,
         district = EXCLUDED.district, lat = EXCLUDED.lat, lon = EXCLUDED.lon, address_text = EXCLUDED.address_text,
         place_name = EXCLUDED.place_name, contact_phone = EXCLUDED.contact_phone`,
      [r.address_id!, r.building!, r.unit ?? '', r.floor ?? '', r.room ?? '', r.grid!, r.community!, r.street!, r.district!, lat, lon, r.address_text ?? '', r.place_name ?? '', contactPhone],
    );
    for (const tier of TIERS) {
      const name = r[`${tier}_name`];
      if (name) await upsertJurisdiction(tx, tier, r[tier]!, name);
    }
  }
  return records.length;
}

async function upsertJurisdiction(tx: Queryable, tier: Tier, code: string, name: string): Promise<void> {
  await tx.query('INSERT INTO jurisdictions (tier, code, name) VALUES ($1, $2, $3) ON CONFLICT (tier, code) DO UPDATE SET name = EXCLUDED.name', [tier, code, name]);
}

/** Columns: tier, code, name. Display names of grids, communities, streets and districts. */
export async function importJurisdictionsCsv(tx: Queryable, csv: string): Promise<number> {
  const records = csvRecords(csv, ['tier', 'code', 'name']);
  records.forEach((r, i) => {
    if (!isTier(r.tier!)) throw new CsvError(`line ${csvLine(r) ?? i + 2}: tier must be one of ${TIERS.join(', ')}`);
  });
  for (const r of records) await upsertJurisdiction(tx, r.tier as Tier, r.code!, r.name!);
  return records.length;
}

export interface JurisdictionName {
  tier: Tier;
  code: string;
  name: string;
}

/** Every named jurisdiction, by tier and code. */
export async function listJurisdictions(db: Queryable): Promise<JurisdictionName[]> {
  return db.query<JurisdictionName>('SELECT tier, code, name FROM jurisdictions ORDER BY tier, code');
}

/** The display name of a jurisdiction, or its code when none was imported. */
export async function jurisdictionName(db: Queryable, tier: Tier, code: string): Promise<string> {
  const rows = await db.query<{ name: string }>('SELECT name FROM jurisdictions WHERE tier = $1 AND code = $2', [tier, code]);
  return rows[0]?.name ?? code;
}

/** Columns: id, name, type, tier, area. */
export async function importUnitsCsv(tx: Queryable, csv: string): Promise<number> {
  const records = csvRecords(csv, ['id', 'name', 'type', 'tier', 'area']);
  records.forEach((r, i) => {
    if (!isTier(r.tier!)) throw new CsvError(`line ${csvLine(r) ?? i + 2}: tier must be one of ${TIERS.join(', ')}`);
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(r.type!)) throw new CsvError(`line ${csvLine(r) ?? i + 2}: type must be snake_case (e.g. ${UNIT_TYPES.join(', ')})`);
  });
  for (const r of records) {
    await tx.query(
      `INSERT INTO units (id, name, type, tier, area) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, tier = EXCLUDED.tier, area = EXCLUDED.area`,
      [r.id!, r.name!, r.type!, r.tier!, r.area!],
    );
  }
  return records.length;
}

/** Columns: alarm_type, max_level, area_tier, area, tier, unit_type, priority. Replaces all rules. */
export async function importRulesCsv(tx: Queryable, csv: string): Promise<number> {
  const records = csvRecords(csv, ['alarm_type', 'tier'], ['max_level', 'area_tier', 'area', 'unit_type', 'priority']);
  records.forEach((r, i) => {
    const line = csvLine(r) ?? i + 2;
    if (!isTier(r.tier!)) throw new CsvError(`line ${line}: tier must be one of ${TIERS.join(', ')}`);
    if (r.area_tier && !isTier(r.area_tier)) throw new CsvError(`line ${line}: area_tier must be one of ${TIERS.join(', ')}`);
    if (r.max_level && !/^[1-5]$/.test(r.max_level)) throw new CsvError(`line ${line}: max_level must be 1..5`);
    if (r.priority && !/^-?\d{1,6}$/.test(r.priority)) throw new CsvError(`line ${line}: priority must be an integer`);
  });
  await tx.query('DELETE FROM routing_rules');
  for (const r of records) {
    await tx.query(
      `INSERT INTO routing_rules (alarm_type, max_level, area_tier, area, tier, unit_type, priority) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [r.alarm_type!, Number(r.max_level || 5), r.area_tier || 'district', r.area || '*', r.tier!, r.unit_type || null, Number(r.priority || 100)],
    );
  }
  return records.length;
}

/** An `addresses` row as the driver returns it (numeric columns may arrive as strings). */
export interface AddressRow {
  address_id: string;
  address_text: string;
  place_name: string;
  contact_phone: string;
  building: string;
  unit: string;
  floor: string;
  room: string;
  grid: string;
  community: string;
  street: string;
  district: string;
  lat: number | string | null;
  lon: number | string | null;
}

/** An address row as the API's Address (also for rows read in bulk, incidents/apply-set-sql.ts). */
export function toAddress(r: AddressRow | null | undefined): Address | null {
  if (!r) return null;
  return {
    addressId: r.address_id,
    addressText: r.address_text,
    placeName: r.place_name,
    contactPhone: r.contact_phone,
    building: r.building,
    unit: r.unit,
    floor: r.floor,
    room: r.room,
    grid: r.grid,
    community: r.community,
    street: r.street,
    district: r.district,
    lat: r.lat === null ? null : Number(r.lat),
    lon: r.lon === null ? null : Number(r.lon),
  };
}

export async function getAddress(db: Queryable, addressId: string): Promise<Address | null> {
  const rows = await db.query<AddressRow>('SELECT * FROM addresses WHERE address_id = $1', [addressId]);
  return toAddress(rows[0]);
}

export interface Jurisdiction {
  grid: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
}

/** The unit of `tier` for an incident's area: `unitType` first when given, else the ladder's type, else any. */
export async function unitAt(db: Queryable, where: Jurisdiction, tier: Tier, unitType: string | null): Promise<Unit | null> {
  const area = where[tier];
  if (area === null) return null;
  const rows = await db.query<Unit>(
    `SELECT id, name, type, tier, area FROM units WHERE tier = $1 AND area = $2
     ORDER BY (type = $3) DESC, (type = $4) DESC, id LIMIT 1`,
    [tier, area, unitType ?? '', LADDER_UNIT_TYPES[tier]],
  );
  return rows[0] ?? null;
}

/** Every unit and its jurisdiction, by tier and area. */
export async function listUnits(db: Queryable): Promise<Unit[]> {
  return db.query<Unit>('SELECT id, name, type, tier, area FROM units ORDER BY tier, area, id');
}

export interface Route {
  tier: Tier;
  unit: Unit | null;
}

/** Applies the routing rules (alarm type × level × area → tier and unit type); grid when none matches. */
export async function route(db: Queryable, where: Jurisdiction, alarmType: string, level: number): Promise<Route> {
  const rules = await db.query<{ area_tier: Tier; area: string; tier: Tier; unit_type: string | null }>(
    `SELECT area_tier, area, tier, unit_type FROM routing_rules
     WHERE (alarm_type = $1 OR alarm_type = '*') AND $2 <= max_level
     ORDER BY priority, (alarm_type = '*'), id`,
    [alarmType, level],
  );
  for (const rule of rules) {
    if (rule.area !== '*' && where[rule.area_tier] !== rule.area) continue;
    const unit = await unitAt(db, where, rule.tier, rule.unit_type);
    if (unit) return { tier: rule.tier, unit };
  }
  // No rule found a unit: walk up the ladder from the grid to the first tier that has one.
  for (const tier of TIERS) {
    const unit = await unitAt(db, where, tier, null);
    if (unit) return { tier, unit };
  }
  return { tier: 'grid', unit: null };
}
