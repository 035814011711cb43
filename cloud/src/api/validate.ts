// Request validation from the declared TypeBox schemas. The first failure answers 400 with
// "<field>: <what was expected>", the wording clients already rely on (e.g. "limit: expected
// integer 1..1000", "actor: expected a string", "leaseToken: required").
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { badRequest } from './errors.ts';
import { ERROR_TEXT, LIST, NON_BLANK } from './schemas.ts';

type Json = Record<string, unknown>;
type SchemaNode = TSchema & { [ERROR_TEXT]?: string };

export const NOT_AN_OBJECT = 'body: expected a JSON object (Content-Type: application/json)';

function range(schema: SchemaNode): string {
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `≥ ${min}`;
  return max !== undefined ? `≤ ${max}` : '';
}

function expected(error: ValueError): string {
  const schema = error.schema as SchemaNode;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'required';
    case ValueErrorType.String:
      return 'expected a string';
    case ValueErrorType.StringMaxLength:
      return `at most ${String(schema.maxLength)} characters`;
    case ValueErrorType.StringPattern:
      return schema.pattern === NON_BLANK ? 'must not be empty' : `does not match ${String(schema.pattern)}`;
    case ValueErrorType.Union:
      return `expected one of ${(schema.anyOf as { const?: unknown }[]).map((s) => String(s.const)).join(', ')}`;
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
      return `expected integer ${range(schema)}`.trimEnd();
    case ValueErrorType.Number:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return `expected a number ${range(schema)}`.trimEnd();
    case ValueErrorType.StringFormat:
      return `expected a ${String(schema.format)}`;
    case ValueErrorType.Array:
      return 'expected a list';
    case ValueErrorType.Boolean:
      return 'expected true or false';
    default:
      return error.message.toLowerCase();
  }
}

/** "<field>: <text>" for the first error; a schema's own error text wins over the generic one. */
export function describeError(error: ValueError, root: string): string {
  const field = error.path === '' ? root : error.path.slice(1).replaceAll('/', '.');
  const custom = (error.schema as SchemaNode)[ERROR_TEXT];
  const requiredMissing = error.type === ValueErrorType.ObjectRequiredProperty;
  return `${field}: ${custom !== undefined && !requiredMissing ? custom : expected(error)}`;
}

export class Validator {
  private readonly check: TypeCheck<TSchema>;
  private readonly properties: Record<string, TSchema>;
  private readonly required: ReadonlySet<string>;

  constructor(
    readonly schema: TSchema,
    private readonly root: string,
  ) {
    this.check = TypeCompiler.Compile(schema);
    this.properties = (schema.properties as Record<string, TSchema> | undefined) ?? {};
    this.required = new Set((schema.required as string[] | undefined) ?? []);
  }

  /** Throws a 400 naming the first bad field; returns the value otherwise. */
  assert(value: unknown): unknown {
    if (this.check.Check(value)) return value;
    const first = this.check.Errors(value).First();
    throw badRequest(first ? describeError(first, this.root) : `${this.root}: not valid`);
  }

  /** A JSON body: must be an object; `null` in an optional field means "not given", as before. */
  body(value: unknown): unknown {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(NOT_AN_OBJECT);
    const body: Json = { ...(value as Json) };
    for (const key of Object.keys(body)) if (body[key] === null && key in this.properties && !this.required.has(key)) delete body[key];
    return this.assert(body);
  }

  /** Path or query strings: one value per name, numbers converted where the schema wants one. */
  strings(raw: Record<string, unknown>): unknown {
    const out: Json = {};
    for (const [name, value] of Object.entries(raw)) {
      const schema = this.properties[name];
      if (!schema) continue;
      // A list parameter may be repeated (?level=1&level=2) as well as comma-separated.
      if (Array.isArray(value) && schema[LIST] === true && value.every((v) => typeof v === 'string')) {
        out[name] = value.join(',');
        continue;
      }
      if (typeof value !== 'string') throw badRequest(`${name}: expected a single value`);
      const numeric = schema.type === 'integer' || schema.type === 'number';
      out[name] = numeric && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    }
    return this.assert(out);
  }
}
