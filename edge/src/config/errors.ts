// Configuration errors for people: the file, the JSON path, and what was expected in words that
// name the user's own input; an unknown key comes with the closest valid key (zigbee2mqtt-style
// schema-first settings, CONVENTIONS.md §7).
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

export class ConfigError extends Error {
  readonly source: string;
  readonly path: string;
  constructor(source: string, path: string, expected: string) {
    super(`${source}: ${path}: ${expected}`);
    this.name = 'ConfigError';
    this.source = source;
    this.path = path;
  }
}

/** `/devices/0/profle` → `devices[0].profle`, as a person reads a YAML path. */
export function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((part) => part !== '')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');
}

/** Levenshtein distance, small strings only (config keys). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/** The valid key closest to `key`, when it is close enough to be a typo. */
export function closestKey(key: string, valid: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const candidate of valid) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || d < best.d) best = { key: candidate, d };
  }
  if (best && best.d <= Math.max(2, Math.floor(key.length / 3))) return best.key;
  // A shortened key (`baud` for `baudRate`) is a typo too.
  return valid.find((candidate) => key.length >= 3 && candidate.toLowerCase().startsWith(key.toLowerCase()));
}

function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function unknownKey(error: ValueError, at: string): string {
  const key = error.path.split('/').pop() ?? '';
  const valid = Object.keys((error.schema as { properties?: Record<string, unknown> }).properties ?? {});
  const suggestion = closestKey(key, valid);
  const hint = suggestion === undefined ? `valid keys here: ${valid.join(', ')}` : `did you mean ${suggestion}?`;
  return `unknown key ${dottedPath(at)}; ${hint}`;
}

/** One schema violation in words: the literals a union allows, an integer's range, a missing key. */
function explain(error: ValueError, at: string): string {
  const schema = error.schema as { anyOf?: Array<{ const?: unknown }>; minimum?: number; maximum?: number; type?: string };
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return unknownKey(error, at);
    case ValueErrorType.ObjectRequiredProperty:
      return `missing key ${dottedPath(at)}`;
    case ValueErrorType.Union:
      if (schema.anyOf?.every((member) => member.const !== undefined)) {
        return `expected one of ${schema.anyOf.map((m) => String(m.const)).join(', ')}, got ${describeValue(error.value)}`;
      }
      return error.message;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      if (schema.minimum !== undefined && schema.maximum !== undefined) return `${describeValue(error.value)} is outside ${schema.minimum}–${schema.maximum}`;
      return error.message;
    default:
      return error.message;
  }
}

/**
 * The most useful violation of `schema` by `value`, or null: an unknown key first (a typo also
 * makes its real key "missing", and the typo is what to fix), else the first one reported.
 * `prefix` is the JSON path of `value` in the whole file; the returned path includes it.
 */
export function schemaProblem(schema: TSchema, value: unknown, prefix = ''): { path: string; message: string } | null {
  const errors = [...Value.Errors(schema, value)];
  if (errors.length === 0) return null;
  const chosen = errors.find((e) => e.type === ValueErrorType.ObjectAdditionalProperties) ?? errors[0]!;
  const path = `${prefix}${chosen.path}` || '/';
  return { path, message: explain(chosen, path) };
}
