// Loads profiles and their vectors from YAML, validates them and fails with the file, the JSON
// path and what was expected, so a typo is found at load time and never at poll time.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, parseDocument } from 'yaml';
import { ProfileSchemas, SUPPORTED_TRANSPORTS, TRANSPORTS, type Profile } from './schema.ts';
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

/** Throws a ProfileError for the first schema violation (the most specific TypeBox reports first). */
export function validateAgainst<T>(schema: TSchema, value: unknown, file: string): T {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return value as T;
  const first = checker.Errors(value).First();
  throw new ProfileError(file, first?.path || '/', first?.message ?? 'invalid');
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
    if (points.has(point.name)) throw new ProfileError(file, `/points/${index}/name`, `duplicate point name ${point.name}`);
    points.set(point.name, point);
    const numeric = ['mask', 'shift', 'scale', 'offset'] as const;
    for (const key of numeric) {
      if (point[key] !== undefined && point.type !== 'number') {
        throw new ProfileError(file, `/points/${index}/${key}`, `only number points may have ${key}`);
      }
    }
  });
  if (profile.testPoint !== undefined) {
    const test = points.get(profile.testPoint);
    if (!test || test.type !== 'boolean') {
      throw new ProfileError(file, '/testPoint', `expected the name of a boolean point, got ${profile.testPoint}`);
    }
  }
  const alarmTypes = new Set<string>();
  profile.rules.forEach((rule, index) => {
    if (!points.has(rule.point)) {
      throw new ProfileError(file, `/rules/${index}/point`, `expected one of the profile's points (${[...points.keys()].join(', ')}), got ${rule.point}`);
    }
    // Rule state is keyed by alarm type per device, so two rules may not share one.
    if (alarmTypes.has(rule.alarmType)) throw new ProfileError(file, `/rules/${index}/alarmType`, `duplicate alarmType ${rule.alarmType}`);
    alarmTypes.add(rule.alarmType);
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
