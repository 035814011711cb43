// Validates an events payload. A bad envelope (not JSON, unknown version, wrong shape) refuses the
// whole message; a well-formed envelope with some bad events keeps the good ones and refuses the
// others by id, so the edge can quarantine them instead of resending the batch forever.
import { decodeMessage, eventIdFor, validateMessage, type AlarmEvent, type EventsMessage } from '@gridwatch/protocol';
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
  | { ok: false; label: RejectReason; reason: string };

const MAX_BATCH = 500;

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

function labelFor(error: string): RejectReason {
  if (error.includes('payload is not JSON') || error.includes('exceeds')) return 'json';
  if (error.includes('unsupported schema version')) return 'version';
  return 'schema';
}

/** True when every reported problem lies inside the one wrapped event (path /events/0…). */
function withinEvent(error: string): boolean {
  return error
    .replace(/^events: /, '')
    .split('; ')
    .every((part) => part.startsWith('/events/0/') || part.startsWith('/events/0:'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkEvents(topicGatewayId: string, payload: Buffer): CheckedEvents {
  const decoded = decodeMessage('events', payload);
  let events: AlarmEvent[];
  let message: Omit<EventsMessage, 'events'>;
  const refused: RefusedEvent[] = [];
  if (decoded.ok) {
    ({ events, ...message } = decoded.value);
  } else {
    const label = labelFor(decoded.error);
    if (label !== 'schema') return { ok: false, label, reason: decoded.error };
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    if (!isRecord(parsed) || !Array.isArray(parsed.events) || parsed.events.length === 0 || parsed.events.length > MAX_BATCH) {
      return { ok: false, label, reason: decoded.error };
    }
    // The envelope alone, proven with a known-good event in place of the batch.
    const envelope = validateMessage('events', { ...parsed, events: [PROBE] });
    if (!envelope.ok) return { ok: false, label, reason: decoded.error };
    const { events: _probe, ...rest } = envelope.value;
    message = rest;
    events = [];
    for (const [index, raw] of (parsed.events as unknown[]).entries()) {
      const one = validateMessage('events', { ...parsed, events: [raw] });
      if (one.ok && one.value.events[0]) {
        events.push(one.value.events[0]);
      } else if (!one.ok && withinEvent(one.error)) {
        const id = isRecord(raw) && typeof raw.id === 'string' && raw.id.length <= 128 ? raw.id : null;
        refused.push({ id, reason: one.error.replaceAll('/events/0', `/events/${index}`), label: 'event_schema', raw });
      } else {
        return { ok: false, label, reason: decoded.error };
      }
    }
  }
  if (message.gatewayId !== topicGatewayId) {
    return {
      ok: false,
      label: 'gateway_mismatch',
      reason: `gatewayId: ${JSON.stringify(message.gatewayId)} does not match the topic's gateway ${topicGatewayId}`,
    };
  }
  // An event id names its gateway; accepting another gateway's ids would let it squat them.
  const owned: AlarmEvent[] = [];
  for (const event of events) {
    if (event.id === eventIdFor(topicGatewayId, event.seq)) owned.push(event);
    else refused.push({ id: event.id, reason: `id: expected ${eventIdFor(topicGatewayId, event.seq)}`, label: 'event_id', raw: event });
  }
  return { ok: true, message, events: owned, refused };
}
