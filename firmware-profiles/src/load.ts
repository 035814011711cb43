// Loads profiles and their vectors from YAML, validates them and fails with the file, the JSON
// path and what was expected, so a typo is found at load time and never at poll time.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, parseDocument } from 'yaml';
import { ProfileError } from './errors.ts';
import { RULE_KINDS, RuleSchemas, type Rule } from './schema.ts';
import { profileTransport, profileTransportIds, transportOf, type Profile } from './transports/index.ts';
import { VectorsFile } from './vectors.ts';

/** The collection shipped in this package: `profiles/<vendor>/<model>.yaml`. */
export const BUNDLED_PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'profiles');

export { ProfileError } from './errors.ts';

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

function checkProfileSemantics(profile: Profile, file: string): void {
  const points = new Map<string, Profile['points'][number]>();
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
  });
  transportOf(profile).check?.(profile, file);
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
  const raw = transportOf(profile).rawType?.(point);
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
  const piece = typeof transport === 'string' ? profileTransport(transport) : undefined;
  if (!piece) throw new ProfileError(file, '/transport', `Expected one of ${profileTransportIds().join(', ')}`);
  checkRules(value, file);
  const profile = validateAgainst<Profile>(piece.schema, value, file);
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
