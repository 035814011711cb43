// Validators shared by edge and cloud. A failure names the path and what was expected so the
// sender's operator can fix it; callers count and log it, then carry on.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { MessageSchemas, SCHEMA_VERSION, type MessageByKind, type MessageKind } from './messages.ts';

/** Larger payloads are refused before parsing: a gateway batch of 500 events fits well within. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

const compiled = new Map<MessageKind, TypeCheck<TSchema>>();
function checkerFor(kind: MessageKind): TypeCheck<TSchema> {
  let checker = compiled.get(kind);
  if (!checker) {
    checker = TypeCompiler.Compile(MessageSchemas[kind]);
    compiled.set(kind, checker);
  }
  return checker;
}

/** Describes at most three schema errors as `path: message`. */
export function describeErrors(checker: TypeCheck<TSchema>, value: unknown): string {
  const parts: string[] = [];
  for (const error of checker.Errors(value)) {
    parts.push(`${error.path || '/'}: ${error.message}`);
    if (parts.length === 3) break;
  }
  return parts.join('; ');
}

export function validateMessage<K extends MessageKind>(kind: K, value: unknown): Validated<MessageByKind[K]> {
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== SCHEMA_VERSION) {
    return { ok: false, error: `${kind}: unsupported schema version ${JSON.stringify(value.v)} (expected ${SCHEMA_VERSION})` };
  }
  const checker = checkerFor(kind);
  if (checker.Check(value)) return { ok: true, value: value as MessageByKind[K] };
  return { ok: false, error: `${kind}: ${describeErrors(checker, value)}` };
}

/** Parses and validates a raw MQTT payload in one step. */
export function decodeMessage<K extends MessageKind>(kind: K, payload: Uint8Array | string): Validated<MessageByKind[K]> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) return { ok: false, error: `${kind}: payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    return { ok: false, error: `${kind}: payload is not JSON (${(err as Error).message})` };
  }
  return validateMessage(kind, parsed);
}

export function encodeMessage<K extends MessageKind>(kind: K, message: MessageByKind[K]): string {
  const result = validateMessage(kind, message);
  if (!result.ok) throw new Error(`refusing to send an invalid message: ${result.error}`);
  return JSON.stringify(message);
}

/** `{gatewayId}:{seq}` — stable across restarts because seq is persisted with the outbox. */
export function eventIdFor(gatewayId: string, seq: number): string {
  return `${gatewayId}:${seq}`;
}
