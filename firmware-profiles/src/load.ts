// Loads profiles and their vectors from YAML, validates them and fails with the file, the JSON
// path and what was expected, so a typo is found at load time and never at poll time.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, parseDocument } from 'yaml';
import {
  ProfileSchemas,
  REGISTER_RAW_TYPES,
  RULE_KINDS,
  RuleSchemas,
  SUPPORTED_TRANSPORTS,
  TRANSPORTS,
  modbusRawType,
  modbusWidth,
  type ModbusPoint,
  type Profile,
  type Rule,
  type SerialPoint,
  type SerialProfile,
} from './schema.ts';
import { serialWidth } from './layout.ts';
import { VectorsFile } from './vectors.ts';

/** The collection shipped in this package: `profiles/<vendor>/<model>.yaml`. */
export const BUNDLED_PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'profiles');

export class ProfileError extends Error {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string, expected: string) {
    super(`${file}: ${path}: ${expected}`);
    this.name = 'ProfileError';
    this.file = file;
    this.path = path;
  }
}

export interface LoadedProfile {
  profile: Profile;
  /** Path of the YAML file, as displayed in errors. */
  file: string;
}

export interface ProfileCollection {
  profiles: Map<string, LoadedProfile>;
  /** Every `*.vectors.yaml` under the directory, as absolute paths. */
  vectorFiles: string[];
}

const checkers = new Map<TSchema, TypeCheck<TSchema>>();
function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let checker = checkers.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    checkers.set(schema, checker);
  }
  return checker;
}

/** The first schema violation (the most specific TypeBox reports first), or null. */
export function firstSchemaError(schema: TSchema, value: unknown): { path: string; message: string } | null {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return null;
  const first = checker.Errors(value).First();
  return { path: first?.path || '/', message: first?.message ?? 'invalid' };
}

/** Throws a ProfileError for the first schema violation. */
export function validateAgainst<T>(schema: TSchema, value: unknown, file: string): T {
  const error = firstSchemaError(schema, value);
  if (error) throw new ProfileError(file, error.path, error.message);
  return value as T;
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const error = doc.errors[0];
  if (error) {
    const pos = lineCounter.linePos(error.pos[0]);
    throw new ProfileError(file, `line ${pos.line} column ${pos.col}`, `YAML error: ${error.message}`);
  }
  return doc.toJS();
}

function checkModbusPoint(point: ModbusPoint, at: string, file: string): void {
  const raw = modbusRawType(point);
  const bitTable = point.table === 'coil' || point.table === 'discrete';
  if (bitTable !== (raw === 'bool')) {
    throw new ProfileError(file, `${at}/rawType`, bitTable ? `a ${point.table} is a single bit: rawType bool` : `registers hold ${REGISTER_RAW_TYPES.join(', ')}, not bool`);
  }
  if (bitTable && point.type !== 'boolean') throw new ProfileError(file, `${at}/type`, `a ${point.table} point is boolean`);
  if (point.bit !== undefined && (raw !== 'uint16' && raw !== 'int16')) throw new ProfileError(file, `${at}/bit`, 'bit needs a 16-bit register');
  if (!bitTable && (point.type === 'boolean') !== (point.bit !== undefined)) {
    throw new ProfileError(file, `${at}/bit`, 'a boolean point of a register needs `bit`, and `bit` makes a boolean point');
  }
  if (point.type === 'string') throw new ProfileError(file, `${at}/type`, 'Modbus points are boolean or number');
  if (point.access === 'readwrite' && point.table !== 'coil' && point.table !== 'holding') {
    throw new ProfileError(file, `${at}/access`, 'only coils and holding registers are writable');
  }
  if (point.address + modbusWidth(point) > 65536) throw new ProfileError(file, `${at}/address`, 'point runs past address 65535');
  if (raw === 'float32' && (point.mask !== undefined || point.shift !== undefined)) throw new ProfileError(file, `${at}/mask`, 'mask/shift need an integer rawType');
}

function checkSerialPoint(point: SerialPoint, at: string, profile: SerialProfile, file: string): void {
  if ((point.type === 'boolean') !== (point.bit !== undefined)) {
    throw new ProfileError(file, `${at}/bit`, 'a boolean point needs `bit`, and `bit` makes a boolean point');
  }
  if (point.type === 'string') throw new ProfileError(file, `${at}/type`, 'serial points are boolean or number');
  if ((point.rawType === 'bcd') !== (point.length !== undefined)) throw new ProfileError(file, `${at}/length`, '`length` is required for bcd and only for bcd');
  if (point.rawType === 'float32' && (point.mask !== undefined || point.shift !== undefined)) throw new ProfileError(file, `${at}/mask`, 'mask/shift need an integer rawType');
  const { length } = profile.framing;
  if (length.kind === 'fixed' && point.byteOffset + serialWidth(point) > length.bytes) {
    throw new ProfileError(file, `${at}/byteOffset`, `field runs past the ${length.bytes}-byte frame`);
  }
}

function checkFraming(profile: SerialProfile, file: string): void {
  const { framing } = profile;
  if (framing.length.kind === 'delimiter' && framing.end === undefined) throw new ProfileError(file, '/framing/end', 'delimiter framing needs `end`');
}

function checkProfileSemantics(profile: Profile, file: string): void {
  const points = new Map<string, Profile['points'][number]>();
  if (profile.transport === 'serial') checkFraming(profile, file);
  profile.points.forEach((point, index) => {
    const at = `/points/${index}`;
    if (points.has(point.name)) throw new ProfileError(file, `${at}/name`, `duplicate point name ${point.name}`);
    points.set(point.name, point);
    const numeric = ['mask', 'shift', 'scale', 'offset'] as const;
    for (const key of numeric) {
      if (point[key] !== undefined && point.type !== 'number') {
        throw new ProfileError(file, `${at}/${key}`, `only number points may have ${key}`);
      }
    }
    if (profile.transport === 'modbus') checkModbusPoint(point as ModbusPoint, at, file);
    if (profile.transport === 'serial') checkSerialPoint(point as SerialPoint, at, profile, file);
  });
  if (profile.testPoint !== undefined) {
    const test = points.get(profile.testPoint);
    if (!test || test.type !== 'boolean') {
      throw new ProfileError(file, '/testPoint', `expected the name of a boolean point, got ${profile.testPoint}`);
    }
  }
  const alarmTypes = new Set<string>();
  profile.rules.forEach((rule, index) => {
    checkRule(profile, rule, `/rules/${index}`, file, alarmTypes);
    // Rule state is keyed by alarm type per device, so two rules may not share one.
    if (alarmTypes.has(rule.alarmType)) throw new ProfileError(file, `/rules/${index}/alarmType`, `duplicate alarmType ${rule.alarmType}`);
    alarmTypes.add(rule.alarmType);
  });
}

const RAW_RANGES: Record<string, [number, number]> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

/** The values a number point can take after mask, shift, scale and offset; null when unbounded (JSON, float32, bcd). */
export function pointRange(profile: Profile, point: Profile['points'][number]): [number, number] | null {
  const raw = profile.transport === 'modbus' ? modbusRawType(point as ModbusPoint) : profile.transport === 'serial' ? (point as SerialPoint).rawType : undefined;
  const range = raw === undefined ? undefined : RAW_RANGES[raw];
  if (!range) return null;
  let [lo, hi] = range;
  if (point.mask !== undefined) [lo, hi] = [0, point.mask];
  if (point.shift !== undefined) [lo, hi] = [Math.floor(lo / 2 ** point.shift), Math.floor(hi / 2 ** point.shift)];
  const scale = point.scale ?? 1;
  const offset = point.offset ?? 0;
  const a = lo * scale + offset;
  const b = hi * scale + offset;
  return [Math.min(a, b), Math.max(a, b)];
}

/**
 * Checks one rule against the profile it applies to: the point exists and has the right type, a
 * threshold can be reached, a combination names earlier alarm types. Also used by the edge for
 * per-device overrides, with the config file and its path in `file` and `at`.
 */
export function checkRule(profile: Profile, rule: Rule, at: string, file: string, earlier: ReadonlySet<string>): void {
  if (rule.kind === 'combination') {
    rule.all.forEach((type, i) => {
      if (!earlier.has(type)) throw new ProfileError(file, `${at}/all/${i}`, `expected the alarmType of an earlier rule (${[...earlier].join(', ') || 'none'}), got ${type}`);
    });
    return;
  }
  if (rule.kind === 'heartbeat') return;
  const point = profile.points.find((p) => p.name === rule.point);
  if (!point) {
    throw new ProfileError(file, `${at}/point`, `expected one of the profile's points (${profile.points.map((p) => p.name).join(', ')}), got ${rule.point}`);
  }
  if (rule.kind !== 'state' && (point.type !== 'number' || point.enum !== undefined)) {
    throw new ProfileError(file, `${at}/point`, `a ${rule.kind} rule needs a number point without enum, ${rule.point} is not`);
  }
  if (rule.kind === 'threshold') {
    const range = pointRange(profile, point);
    if (!Number.isFinite(rule.limit)) throw new ProfileError(file, `${at}/limit`, 'expected a finite number');
    if (range && (rule.op === '>=' ? rule.limit > range[1] : rule.limit < range[0])) {
      throw new ProfileError(file, `${at}/limit`, `impossible threshold: ${rule.point} ${rule.op} ${rule.limit} can never hold, the point spans ${range[0]}..${range[1]}`);
    }
    if (range && (rule.op === '>=' ? rule.limit <= range[0] : rule.limit >= range[1])) {
      throw new ProfileError(file, `${at}/limit`, `impossible threshold: ${rule.point} ${rule.op} ${rule.limit} always holds, the point spans ${range[0]}..${range[1]}`);
    }
  }
  if (rule.kind === 'state' && rule.whenValue !== undefined && typeof rule.whenValue !== (point.enum ? 'string' : point.type)) {
    throw new ProfileError(file, `${at}/whenValue`, `${rule.point} is a ${point.enum ? 'string (enum)' : point.type} point`);
  }
  if (rule.kind === 'continuous' && rule.slotSeconds > rule.windowSeconds) throw new ProfileError(file, `${at}/slotSeconds`, 'must not exceed windowSeconds');
}

function checkRules(value: unknown, file: string): void {
  // Validate each rule against the schema of its own kind, so the error names the real problem
  // rather than "does not match any member of the union".
  const rules = typeof value === 'object' && value !== null && 'rules' in value ? value.rules : undefined;
  if (!Array.isArray(rules)) return;
  rules.forEach((rule: unknown, index) => {
    const kind = typeof rule === 'object' && rule !== null && 'kind' in rule ? rule.kind : undefined;
    const schema = RuleSchemas[kind as keyof typeof RuleSchemas] as TSchema | undefined;
    if (!schema) throw new ProfileError(file, `/rules/${index}/kind`, `Expected one of ${RULE_KINDS.join(', ')}`);
    const error = firstSchemaError(schema, rule);
    if (error) throw new ProfileError(file, `/rules/${index}${error.path === '/' ? '' : error.path}`, error.message);
  });
}

/** Validates an already-parsed profile object. `file` is only used in error messages. */
export function parseProfile(value: unknown, file: string): Profile {
  const transport = typeof value === 'object' && value !== null && 'transport' in value ? value.transport : undefined;
  if (!SUPPORTED_TRANSPORTS.includes(transport as (typeof SUPPORTED_TRANSPORTS)[number])) {
    const known = (TRANSPORTS as readonly unknown[]).includes(transport);
    throw new ProfileError(
      file,
      '/transport',
      known ? `transport ${String(transport)} has no profile schema yet` : `Expected one of ${SUPPORTED_TRANSPORTS.join(', ')}`,
    );
  }
  checkRules(value, file);
  const profile = validateAgainst<Profile>(ProfileSchemas[transport as (typeof SUPPORTED_TRANSPORTS)[number]], value, file);
  checkProfileSemantics(profile, file);
  return profile;
}

export function loadProfileFile(path: string, displayName: string = path): Profile {
  return parseProfile(parseYaml(readFileSync(path, 'utf8'), displayName), displayName);
}

export function loadVectorsFile(path: string, displayName: string = path): VectorsFile {
  return validateAgainst<VectorsFile>(VectorsFile, parseYaml(readFileSync(path, 'utf8'), displayName), displayName);
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(path);
  }
  return out;
}

/**
 * Loads every profile under `dir` (vectors files are listed, not parsed). Files are named in errors
 * relative to the directory's parent, e.g. `profiles/generic/smoke-mqtt.yaml`.
 */
export function loadProfiles(dir: string = BUNDLED_PROFILES_DIR): ProfileCollection {
  const profiles = new Map<string, LoadedProfile>();
  const vectorFiles: string[] = [];
  const base = dirname(dir);
  for (const path of walk(dir, [])) {
    if (/\.vectors\.ya?ml$/.test(path)) {
      vectorFiles.push(path);
      continue;
    }
    const file = relative(base, path);
    const profile = loadProfileFile(path, file);
    const existing = profiles.get(profile.id);
    if (existing) throw new ProfileError(file, '/id', `duplicate profile id ${profile.id} (also in ${existing.file})`);
    profiles.set(profile.id, { profile, file });
  }
  return { profiles, vectorFiles };
}
