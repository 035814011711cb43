// Request-body validation for the REST API: every failure is a BadRequest naming the field, which
// the app's error handler answers with 400, so a client author sees what to fix.

export type Body = Record<string, unknown>;

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

export function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireBody(value: unknown): Body {
  if (!isBody(value)) throw new BadRequest('body: expected a JSON object (Content-Type: application/json)');
  return value;
}

interface StrOptions {
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}

export function optionalStr(body: Body, field: string, opts: StrOptions = {}): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${field}: expected a string`);
  if (opts.max !== undefined && value.length > opts.max) throw new BadRequest(`${field}: at most ${opts.max} characters`);
  if (opts.oneOf && !opts.oneOf.includes(value)) throw new BadRequest(`${field}: expected one of ${opts.oneOf.join(', ')}`);
  if (opts.pattern && !opts.pattern.test(value)) throw new BadRequest(`${field}: does not match ${opts.pattern.source}`);
  return value;
}

export function requiredStr(body: Body, field: string, opts: StrOptions = {}): string {
  const value = optionalStr(body, field, opts);
  if (value === undefined) throw new BadRequest(`${field}: required`);
  if (value.trim() === '') throw new BadRequest(`${field}: must not be empty`);
  return value;
}

export function optionalInt(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new BadRequest(`${field}: expected integer ${min}..${max}`);
  return value;
}
