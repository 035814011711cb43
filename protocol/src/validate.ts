// Validators shared by edge and cloud. A failure names the path and what was expected so the
// sender's operator can fix it; callers count and log it, then carry on.
//
// Two views of one schema (messages.ts): a sender is strict (no property the schema does not
// define, so a typo surfaces where it is made); a receiver is tolerant within the major version
// (unknown properties are accepted and stripped, so a newer sender's optional field never gets an
// alarm refused), see FORWARD_COMPATIBILITY.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FORWARD_COMPATIBILITY, MessageSchemas, SCHEMA_VERSION, type MessageByKind, type MessageKind } from './messages.ts';

/** Larger payloads are refused before parsing: a gateway batch of 500 events fits well within. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A copy of `schema` whose objects accept properties they do not define. Records keep their key
 * pattern (their keys are data, not contract extensions). Symbol keys (TypeBox's Kind) are kept.
 */
export function tolerant<T extends TSchema>(schema: T): T {
  const copy = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(copy);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string | symbol, unknown> = {};
    for (const key of Reflect.ownKeys(node)) out[key] = copy((node as Record<string | symbol, unknown>)[key]);
    if (out[Kind] === 'Object' && out.additionalProperties === false) delete out.additionalProperties;
    return out;
  };
  return copy(schema) as T;
}

/** The receiver's view of each message schema, as also published in protocol/schema/. */
export const ReceiverSchemas: { [K in MessageKind]: TSchema } = Object.fromEntries(
  Object.entries(MessageSchemas).map(([kind, schema]) => [
    kind,
    { ...tolerant(schema), description: `${schema.description ?? kind}. ${FORWARD_COMPATIBILITY}` },
  ]),
) as unknown as { [K in MessageKind]: TSchema };

const compiled = new Map<string, TypeCheck<TSchema>>();
function checkerFor(kind: MessageKind, view: 'sender' | 'receiver'): TypeCheck<TSchema> {
  const key = `${view}:${kind}`;
  let checker = compiled.get(key);
  if (!checker) {
    checker = TypeCompiler.Compile(view === 'sender' ? MessageSchemas[kind] : ReceiverSchemas[kind]);
    compiled.set(key, checker);
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

/** The refusal of a major version this code does not speak; null when `v` is ours (or absent). */
export function versionError(kind: MessageKind, value: unknown): string | null {
  if (typeof value !== 'object' || value === null || !('v' in value) || value.v === SCHEMA_VERSION) return null;
  return `${kind}: unsupported schema version ${JSON.stringify(value.v)} (this receiver speaks major version ${SCHEMA_VERSION}; upgrade it before sending v${JSON.stringify(value.v)})`;
}

/**
 * Receiver side: checks a parsed message and returns it without the properties the schema does not
 * define (ignored, per FORWARD_COMPATIBILITY). The input is not modified.
 */
export function validateMessage<K extends MessageKind>(kind: K, value: unknown): Validated<MessageByKind[K]> {
  const version = versionError(kind, value);
  if (version) return { ok: false, error: version };
  const checker = checkerFor(kind, 'receiver');
  if (!checker.Check(value)) return { ok: false, error: `${kind}: ${describeErrors(checker, value)}` };
  return { ok: true, value: Value.Clean(MessageSchemas[kind], structuredClone(value)) as MessageByKind[K] };
}

/** Parses and validates a raw MQTT payload in one step (receiver side). */
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

/** Sender side: strict, so a misspelt field fails where it is written, not at the receiver. */
export function encodeMessage<K extends MessageKind>(kind: K, message: MessageByKind[K]): string {
  const checker = checkerFor(kind, 'sender');
  const version = versionError(kind, message);
  if (version || !checker.Check(message)) throw new Error(`refusing to send an invalid message: ${version ?? `${kind}: ${describeErrors(checker, message)}`}`);
  return JSON.stringify(message);
}

/** `{gatewayId}:{seq}` — stable across restarts because seq is persisted with the outbox. */
export function eventIdFor(gatewayId: string, seq: number): string {
  return `${gatewayId}:${seq}`;
}
