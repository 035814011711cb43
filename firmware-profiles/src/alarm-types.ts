// The alarm-type catalogue (alarm-types.yaml): hazard family, default level, CAP category, unit and
// the labels staff read, per alarm type. Loaded once and validated like the profiles, so a typo
// fails at start-up with the file and the path.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { parse } from 'yaml';
import { ProfileError, firstSchemaError } from './load.ts';
import { UNITS } from './schema.ts';

export const BUNDLED_ALARM_TYPES_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'alarm-types.yaml');

/** CAP 1.2 §3.2.2 `category` values. */
export const CAP_CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;

const Labels = Type.Object({ 'zh-CN': Type.String({ minLength: 1 }), en: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const Name = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

const Family = Type.Object(
  {
    correlate: Type.Boolean({ description: 'Alarms of this family from different devices in one building join one incident' }),
    lane: Type.Union([Type.Literal('emergency'), Type.Literal('maintenance')]),
    labels: Labels,
  },
  { additionalProperties: false },
);

const AlarmTypeEntry = Type.Object(
  {
    family: Name,
    level: Type.Integer({ minimum: 1, maximum: 5 }),
    cap: Type.Union(CAP_CATEGORIES.map((c) => Type.Literal(c))),
    unit: Type.Union(UNITS.map((u) => Type.Literal(u))),
    labels: Labels,
  },
  { additionalProperties: false },
);

const CatalogueFile = Type.Object(
  { version: Type.Literal(1), families: Type.Record(Name, Family), types: Type.Record(Name, AlarmTypeEntry) },
  { additionalProperties: false },
);

export type HazardFamily = Static<typeof Family> & { name: string };
export type AlarmTypeInfo = Static<typeof AlarmTypeEntry> & { code: string };

export interface AlarmTypeCatalogue {
  families: ReadonlyMap<string, HazardFamily>;
  types: ReadonlyMap<string, AlarmTypeInfo>;
  /** The hazard family of a type; a type the catalogue does not know is a family of its own. */
  familyOf(alarmType: string): string;
  /** Whether alarms of this type correlate across devices (false for an unknown type). */
  correlates(alarmType: string): boolean;
}

export function parseAlarmTypes(text: string, file: string): AlarmTypeCatalogue {
  const raw: unknown = parse(text);
  const error = firstSchemaError(CatalogueFile, raw);
  if (error) throw new ProfileError(file, error.path, error.message);
  const data = raw as Static<typeof CatalogueFile>;
  const families = new Map(Object.entries(data.families).map(([name, f]) => [name, { ...f, name }]));
  const types = new Map<string, AlarmTypeInfo>();
  for (const [code, entry] of Object.entries(data.types)) {
    if (!families.has(entry.family)) throw new ProfileError(file, `/types/${code}/family`, `unknown hazard family ${entry.family}`);
    types.set(code, { ...entry, code });
  }
  const familyOf = (alarmType: string): string => types.get(alarmType)?.family ?? alarmType;
  return { families, types, familyOf, correlates: (alarmType) => families.get(familyOf(alarmType))?.correlate ?? false };
}

let bundled: AlarmTypeCatalogue | null = null;

/** The bundled catalogue, read and validated on first use. */
export function alarmTypes(): AlarmTypeCatalogue {
  bundled ??= parseAlarmTypes(readFileSync(BUNDLED_ALARM_TYPES_FILE, 'utf8'), 'alarm-types.yaml');
  return bundled;
}
