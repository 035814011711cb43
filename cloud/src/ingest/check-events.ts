// Validates an events payload. Every event id that can be read gets an answer: a bad envelope (not
// JSON, a major version this cloud does not speak, wrong shape) refuses the whole message but still
// names each readable event id so the edge stops resending it; a well-formed envelope with some bad
// events keeps the good ones and refuses the others by id.
import { MAX_PAYLOAD_BYTES, eventIdFor, validateMessage, versionError, type AlarmEvent, type EventsMessage } from '@gridwatch/protocol';
import type { RejectReason } from '../metrics.ts';

export interface RefusedEvent {
  /** Null when the event has no usable id; then only the dead letter records it. */
  id: string | null;
  reason: string;
  label: RejectReason;
  raw: unknown;
}

export type CheckedEvents =
  | { ok: true; message: Omit<EventsMessage, 'events'>; events: AlarmEvent[]; refused: RefusedEvent[] }
  | { ok: false; label: RejectReason; reason: string; answerIds: string[] };

const MAX_BATCH = 500;
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:[0-9]{1,15}$/;

const PROBE: AlarmEvent = {
  id: 'probe:1',
  seq: 1,
  deviceId: 'probe',
  profileId: 'probe',
  alarmType: 'probe',
  action: 'clear',
  level: 5,
  reason: 'envelope check',
  edgeTime: 0,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The readable ids of this gateway's events in a payload, to answer even when the envelope is refused. */
function readableIds(topicGatewayId: string, parsed: unknown): string[] {
  if (!isRecord(parsed) || !Array.isArray(parsed.events)) return [];
  const ids = new Set<string>();
  for (const raw of parsed.events.slice(0, MAX_BATCH) as unknown[]) {
    const id = isRecord(raw) ? raw.id : undefined;
    if (typeof id === 'string' && EVENT_ID.test(id) && id.startsWith(`${topicGatewayId}:`)) ids.add(id);
  }
  return [...ids];
}

function parse(payload: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) return { ok: false, reason: `events: payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, reason: `events: payload is not JSON (${(err as Error).message})` };
  }
}

/** Splits the batch into valid events and refusals, each refusal naming its index and field. */
function checkEach(parsed: Record<string, unknown>, raws: unknown[]): { events: AlarmEvent[]; refused: RefusedEvent[] } {
  const events: AlarmEvent[] = [];
  const refused: RefusedEvent[] = [];
  for (const [index, raw] of raws.entries()) {
    const one = validateMessage('events', { ...parsed, events: [raw] });
    if (one.ok && one.value.events[0]) {
      events.push(one.value.events[0]);
      continue;
    }
    const id = isRecord(raw) && typeof raw.id === 'string' && EVENT_ID.test(raw.id) ? raw.id : null;
    const reason = one.ok ? 'events: empty event' : one.error.replaceAll('/events/0', `/events/${index}`);
    refused.push({ id, reason, label: 'event_schema', raw });
  }
  return { events, refused };
}

export function checkEvents(topicGatewayId: string, payload: Buffer): CheckedEvents {
  const parsed = parse(payload);
  if (!parsed.ok) return { ok: false, label: 'json', reason: parsed.reason, answerIds: [] };
  const value = parsed.value;
  const answerIds = readableIds(topicGatewayId, value);
  const version = versionError('events', value);
  if (version) return { ok: false, label: 'version', reason: version, answerIds };
  if (!isRecord(value) || !Array.isArray(value.events) || value.events.length === 0 || value.events.length > MAX_BATCH) {
    return { ok: false, label: 'schema', reason: `events: /events: expected an array of 1..${MAX_BATCH} events`, answerIds };
  }
  // The envelope alone, proven with a known-good event in place of the batch.
  const envelope = validateMessage('events', { ...value, events: [PROBE] });
  if (!envelope.ok) return { ok: false, label: 'schema', reason: envelope.error, answerIds };
  const { events: _probe, ...message } = envelope.value;
  if (message.gatewayId !== topicGatewayId) {
    return {
      ok: false,
      label: 'gateway_mismatch',
      reason: `gatewayId: ${JSON.stringify(message.gatewayId)} does not match the topic's gateway ${topicGatewayId}`,
      answerIds,
    };
  }
  const { events, refused } = checkEach(value, value.events as unknown[]);
  // An event id names its gateway; accepting another gateway's ids would let it squat them.
  const owned: AlarmEvent[] = [];
  for (const event of events) {
    if (event.id === eventIdFor(topicGatewayId, event.seq)) owned.push(event);
    else refused.push({ id: event.id, reason: `id: expected ${eventIdFor(topicGatewayId, event.seq)}`, label: 'event_id', raw: event });
  }
  return { ok: true, message, events: owned, refused };
}
