// Schema of a device profile: what a device model says and how to read it. Connection details
// (addresses, credentials) live in the installation's device list, never here. The schema's
// descriptions are the documentation; unknown keys are errors so a typo fails at load time.
//
// Shape for growth: the fields shared by every transport live in `profileCommon` and
// `pointCommon`; each transport adds its own point addressing (`path` for MQTT/JSON today; later a
// Modbus point adds table/address/rawType/byteOrder, a serial point its frame offset) and becomes
// one more member of `Profile`, discriminated by `transport`.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const TRANSPORTS = ['mqtt', 'modbus', 'serial'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Transports that have a profile schema today; the loader refuses the others with a clear message. */
export const SUPPORTED_TRANSPORTS = ['mqtt'] as const satisfies readonly Transport[];

export const DEVICE_CLASSES = [
  'smoke_detector',
  'gas_detector',
  'heat_detector',
  'manual_call_point',
  'water_leak',
  'water_pressure',
  'electrical_fire',
  'door_contact',
  'io_module',
] as const;

/** Units a point may carry. Adding one is a reviewed change so dashboards stay consistent. */
export const UNITS = [
  'none',
  'percent',
  'db_per_m',
  'ppm',
  'percent_lel',
  'celsius',
  'volt',
  'milliampere',
  'ampere',
  'kilopascal',
  'megapascal',
  'cubic_metre_per_hour',
  'litre_per_minute',
  'second',
  'hour',
  'count',
  'dbm',
] as const;
export type Unit = (typeof UNITS)[number];

export const SNAKE_CASE = '^[a-z][a-z0-9_]*$';
export const PROFILE_ID = '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$';

function literals<T extends readonly string[]>(values: T, options: { description: string }) {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  );
}

export const PointType = literals(['boolean', 'number', 'string'] as const, {
  description: 'JSON type the device sends for this point',
});
export type PointType = 'boolean' | 'number' | 'string';

export const UnitSchema = literals(UNITS, { description: 'Engineering unit of the decoded value' });

const ReadingLiteral = Type.Union([Type.Boolean(), Type.Number(), Type.String({ maxLength: 256 })]);

/** Fields every point has, whatever its transport. Transforms apply in the order listed here. */
const pointCommon = {
  name: Type.String({ pattern: SNAKE_CASE, maxLength: 64, description: 'Point name, snake_case, unique in the profile' }),
  description: Type.Optional(Type.String({ maxLength: 256 })),
  type: PointType,
  unit: UnitSchema,
  mask: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 0xffffffff, description: '1) number points: bitwise AND with the raw integer' }),
  ),
  shift: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: '2) number points: right shift after the mask' })),
  scale: Type.Optional(Type.Number({ description: '3) number points: multiply' })),
  offset: Type.Optional(Type.Number({ description: '4) number points: add after scaling' })),
  enum: Type.Optional(
    Type.Record(Type.String(), Type.String({ pattern: SNAKE_CASE, maxLength: 64 }), {
      description: '5) map the transformed value (as a string key) to a label; an unmapped value is a decode error',
    }),
  ),
};

export const MqttPoint = Type.Object(
  {
    ...pointCommon,
    path: Type.String({
      pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
      description: 'Dotted path into the JSON payload, e.g. `alarm` or `status.battery`',
    }),
  },
  { additionalProperties: false },
);
export type MqttPoint = Static<typeof MqttPoint>;

export const StateRule = Type.Object(
  {
    kind: Type.Literal('state', { description: 'Raise while a point equals whenValue, clear when it no longer does' }),
    point: Type.String({ pattern: SNAKE_CASE, description: 'Name of a point of this profile' }),
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'e.g. smoke, fault, tamper' }),
    level: Type.Integer({ minimum: 1, maximum: 5, description: '1 is most urgent' }),
    reason: Type.String({ minLength: 1, maxLength: 256, description: 'Human-readable reason sent with the raise' }),
    whenValue: Type.Optional(ReadingLiteral),
  },
  { additionalProperties: false },
);
export type StateRule = Static<typeof StateRule>;

/**
 * One rule kind today. Threshold, rate-of-change, inactivity and heartbeat rules join as further
 * members discriminated by `kind`; the loader selects the member by `kind` so errors stay precise.
 */
export const RuleSchemas = { state: StateRule } as const;
export type Rule = StateRule;

function profileSchema<P extends TSchema>(transport: Transport, point: P, payload: TSchema) {
  return Type.Object(
    {
      id: Type.String({ pattern: PROFILE_ID, maxLength: 128, description: '`vendor/model`, unique in the collection' }),
      version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', description: 'Profile version (semver)' }),
      name: Type.String({ minLength: 1, maxLength: 128 }),
      description: Type.Optional(Type.String({ maxLength: 1024 })),
      class: literals(DEVICE_CLASSES, { description: 'What kind of device this is' }),
      transport: Type.Literal(transport),
      payload,
      points: Type.Array(point, { minItems: 1, maxItems: 512 }),
      testPoint: Type.Optional(
        Type.String({
          pattern: SNAKE_CASE,
          description: 'Boolean point that marks a report as an installer test; events then carry test: true',
        }),
      ),
      heartbeatSeconds: Type.Integer({ minimum: 5, maximum: 86400, description: 'Expected report period' }),
      rules: Type.Array(StateRule, { maxItems: 256 }),
    },
    { additionalProperties: false },
  );
}

export const MqttProfile = profileSchema(
  'mqtt',
  MqttPoint,
  Type.Object(
    { format: Type.Literal('json', { description: 'The device publishes one JSON object per report' }) },
    { additionalProperties: false },
  ),
);
export type MqttProfile = Static<typeof MqttProfile>;

/** Per-transport profile schemas; the loader picks one by the file's `transport`. */
export const ProfileSchemas = { mqtt: MqttProfile } as const satisfies Record<(typeof SUPPORTED_TRANSPORTS)[number], TSchema>;

export type Profile = MqttProfile;
export type Point = Profile['points'][number];
