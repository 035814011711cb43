// The edge ⇄ cloud wire contract. TypeBox schemas are the single source of truth: the TypeScript
// types below are derived from them and `npm run gen:schemas` writes the same schemas as JSON Schema
// files (protocol/schema/) for non-TypeScript consumers.
import { Type, type Static } from '@sinclair/typebox';

/**
 * Major schema version. Within a major version the contract only grows: a sender may add optional
 * fields and a receiver ignores fields it does not know (they are stripped on decode, never stored).
 * A change an older receiver cannot ignore bumps `v`; a receiver refuses a `v` it does not speak
 * with a reason naming both versions (the cloud rejects such events by id, never silently).
 */
export const SCHEMA_VERSION = 1 as const;

export const FORWARD_COMPATIBILITY =
  'Schema major version 1. Receivers ignore properties this schema does not define (forward compatibility: a newer ' +
  'sender may add optional fields without a version bump); senders send only the properties defined here. A change ' +
  'an older receiver cannot ignore bumps `v`, and a receiver refuses a major version it does not speak.';

const Version = Type.Literal(SCHEMA_VERSION, { description: 'Major schema version of this message' });

/**
 * Text PostgreSQL (and any UTF-8 store) can hold: no U+0000 and no lone UTF-16 surrogate (JSON may
 * carry both as escapes). Written to work with and without the RegExp `u` flag, so every JSON Schema
 * validator reads it the same way.
 */
export const STORABLE_TEXT_PATTERN = String.raw`^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$`;

/** A bounded string the store can hold. */
export function StorableText(maxLength: number, options: { minLength?: number; description?: string } = {}) {
  return Type.String({ ...options, maxLength, pattern: STORABLE_TEXT_PATTERN });
}

export const IdPattern = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const GatewayId = Type.String({ pattern: IdPattern, description: 'Gateway id, unique in a deployment' });
export const SiteId = Type.String({ pattern: IdPattern, description: 'Site (installation) id' });
export const DeviceId = Type.String({ pattern: IdPattern, description: 'Device id, unique on its gateway' });

/** Epoch milliseconds. Integers keep JSON exact and comparisons cheap. */
export const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'Unix time in milliseconds (within the range of a JavaScript Date)' });

export const Level = Type.Integer({
  minimum: 1,
  maximum: 5,
  description: 'Event level: 1 is most urgent, 5 least',
});

export const ReadingValue = Type.Union([Type.Number(), Type.Boolean(), StorableText(256)]);
export type ReadingValue = Static<typeof ReadingValue>;

export const AlarmAction = Type.Union([Type.Literal('raise'), Type.Literal('clear')]);
export type AlarmAction = Static<typeof AlarmAction>;

export const AlarmEvent = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:[0-9]{1,15}$',
      description: 'Stable event id: `{gatewayId}:{seq}`',
    }),
    seq: Type.Integer({ minimum: 1, maximum: 999_999_999_999_999, description: 'Monotonic per-gateway sequence; never reused. Per (gateway, device, alarm type) the cloud applies events in seq order' }),
    deviceId: DeviceId,
    profileId: StorableText(128, { minLength: 1 }),
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'e.g. smoke, fault, gas_high' }),
    action: AlarmAction,
    level: Level,
    reason: StorableText(512, { description: 'Human-readable reason the rule fired' }),
    edgeTime: EpochMs,
    test: Type.Optional(Type.Boolean({ description: 'Installer test: recorded, never dispatched' })),
    chattering: Type.Optional(
      Type.Boolean({ description: 'The rule raised and cleared more than 3 times within a minute: one event stands for the storm (ISA-18.2)' }),
    ),
    addressId: Type.Optional(StorableText(64, { description: 'Standard address id of the device' })),
    readings: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), ReadingValue, { maxProperties: 64 })),
  },
  { additionalProperties: false },
);
export type AlarmEvent = Static<typeof AlarmEvent>;

export const EventsMessage = Type.Object(
  {
    v: Version,
    gatewayId: GatewayId,
    sentAt: EpochMs,
    events: Type.Array(AlarmEvent, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/events — QoS 1' },
);
export type EventsMessage = Static<typeof EventsMessage>;

export const Reading = Type.Object(
  {
    deviceId: DeviceId,
    point: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    value: ReadingValue,
    t: EpochMs,
  },
  { additionalProperties: false },
);
export type Reading = Static<typeof Reading>;

export const TelemetryMessage = Type.Object(
  {
    v: Version,
    gatewayId: GatewayId,
    seq: Type.Integer({ minimum: 1, description: 'Monotonic per-gateway telemetry batch sequence' }),
    sentAt: EpochMs,
    readings: Type.Array(Reading, { minItems: 1, maxItems: 5000 }),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/telemetry — batched readings' },
);
export type TelemetryMessage = Static<typeof TelemetryMessage>;

export const StatusMessage = Type.Object(
  {
    v: Version,
    gatewayId: GatewayId,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    t: EpochMs,
    agentVersion: Type.Optional(StorableText(64)),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/status — retained; the last will says offline' },
);
export type StatusMessage = Static<typeof StatusMessage>;

export const RejectedEvent = Type.Object(
  { id: StorableText(128), reason: StorableText(512) },
  { additionalProperties: false },
);

export const AckMessage = Type.Object(
  {
    v: Version,
    t: EpochMs,
    eventIds: Type.Array(StorableText(128), {
      maxItems: 500,
      description: 'Events the cloud has committed (or already held); the edge may delete them',
    }),
    rejected: Type.Optional(
      Type.Array(RejectedEvent, {
        maxItems: 500,
        description: 'Events the cloud will never accept; the edge quarantines them instead of resending',
      }),
    ),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/ack — cloud → edge, QoS 1' },
);
export type AckMessage = Static<typeof AckMessage>;

export const ConfigMessage = Type.Object(
  {
    v: Version,
    revision: Type.Integer({ minimum: 0 }),
    t: EpochMs,
    heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600 })),
    telemetrySeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/config — cloud → edge, retained desired configuration' },
);
export type ConfigMessage = Static<typeof ConfigMessage>;

export const MessageSchemas = {
  events: EventsMessage,
  telemetry: TelemetryMessage,
  status: StatusMessage,
  ack: AckMessage,
  config: ConfigMessage,
} as const;

export type MessageKind = keyof typeof MessageSchemas;
export interface MessageByKind {
  events: EventsMessage;
  telemetry: TelemetryMessage;
  status: StatusMessage;
  ack: AckMessage;
  config: ConfigMessage;
}
