// The edge ⇄ cloud wire contract. TypeBox schemas are the single source of truth: the TypeScript
// types below are derived from them and `npm run gen:schemas` writes the same schemas as JSON Schema
// files (protocol/schema/) for non-TypeScript consumers.
import { Type, type Static } from '@sinclair/typebox';

/** Bumped on any incompatible change; receivers reject messages whose `v` they do not know. */
export const SCHEMA_VERSION = 1 as const;

const Version = Type.Literal(SCHEMA_VERSION, { description: 'Schema version of this message' });

export const IdPattern = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const GatewayId = Type.String({ pattern: IdPattern, description: 'Gateway id, unique in a deployment' });
export const SiteId = Type.String({ pattern: IdPattern, description: 'Site (installation) id' });
export const DeviceId = Type.String({ pattern: IdPattern, description: 'Device id, unique on its gateway' });

/** Epoch milliseconds. Integers keep JSON exact and comparisons cheap. */
export const EpochMs = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

export const Level = Type.Integer({
  minimum: 1,
  maximum: 5,
  description: 'Event level: 1 is most urgent, 5 least',
});

export const ReadingValue = Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: 256 })]);
export type ReadingValue = Static<typeof ReadingValue>;

export const AlarmAction = Type.Union([Type.Literal('raise'), Type.Literal('clear')]);
export type AlarmAction = Static<typeof AlarmAction>;

export const AlarmEvent = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:[0-9]{1,15}$',
      description: 'Stable event id: `{gatewayId}:{seq}`',
    }),
    seq: Type.Integer({ minimum: 1, description: 'Monotonic per-gateway sequence; never reused' }),
    deviceId: DeviceId,
    profileId: Type.String({ minLength: 1, maxLength: 128 }),
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'e.g. smoke, fault, gas_high' }),
    action: AlarmAction,
    level: Level,
    reason: Type.String({ maxLength: 512, description: 'Human-readable reason the rule fired' }),
    edgeTime: EpochMs,
    test: Type.Optional(Type.Boolean({ description: 'Installer test: recorded, never dispatched' })),
    chattering: Type.Optional(
      Type.Boolean({ description: 'The rule raised and cleared more than 3 times within a minute: one event stands for the storm (ISA-18.2)' }),
    ),
    addressId: Type.Optional(Type.String({ maxLength: 64, description: 'Standard address id of the device' })),
    readings: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), ReadingValue)),
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
    point: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
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
    agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false, description: 'gw/{site}/{gw}/status — retained; the last will says offline' },
);
export type StatusMessage = Static<typeof StatusMessage>;

export const RejectedEvent = Type.Object(
  { id: Type.String({ maxLength: 128 }), reason: Type.String({ maxLength: 512 }) },
  { additionalProperties: false },
);

export const AckMessage = Type.Object(
  {
    v: Version,
    t: EpochMs,
    eventIds: Type.Array(Type.String({ maxLength: 128 }), {
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
