// Schema of a device profile: what a device model says and how to read it. Connection details
// (addresses, credentials, bus, unit id) live in the installation's device list, never here. The
// schema's descriptions are the documentation; unknown keys are errors so a typo fails at load time.
//
// Shape: the fields shared by every transport live in `pointCommon` and `profileSchema`; each
// transport adds its own point addressing (`path` for MQTT/JSON, table/address/rawType for Modbus,
// byte offset/rawType for serial frames) and is one member of `Profile`, discriminated by
// `transport`.
import { Type, type Static, type TLiteral, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

export const DEVICE_CLASSES = [
  'smoke_detector',
  'gas_detector',
  'heat_detector',
  'manual_call_point',
  'water_leak',
  'water_pressure',
  'water_level',
  'water_meter',
  'electrical_fire',
  'door_contact',
  'door_access',
  'wearable',
  'siren',
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
  'metre',
  'cubic_metre',
  'cubic_metre_per_hour',
  'litre_per_minute',
  'beats_per_minute',
  'degree',
  'second',
  'hour',
  'count',
  'dbm',
] as const;
export type Unit = (typeof UNITS)[number];

export const SNAKE_CASE = '^[a-z][a-z0-9_]*$';
export const PROFILE_ID = '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$';
export const BYTE_ORDERS = ['big', 'little'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];
/** Hex bytes, optionally separated by spaces: `02`, `0D 0A`, `01030000000AC5CD`. */
export const HEX_BYTES = '^([0-9A-Fa-f]{2} ?)+$';

type LiteralTuple<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals that keeps the literal types (Type.Union over a mapped array does not). */
export function literals<const T extends readonly string[]>(values: T, options: { description: string }): TUnion<LiteralTuple<T>> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<LiteralTuple<T>>;
}

export const PointType = literals(['boolean', 'number', 'string'] as const, {
  description: 'Type of the value before the enum mapping (for MQTT: the JSON type the device sends)',
});
export type PointType = 'boolean' | 'number' | 'string';

export const UnitSchema = literals(UNITS, { description: 'Engineering unit of the decoded value' });

export const ReadingLiteral = Type.Union([Type.Boolean(), Type.Number(), Type.String({ maxLength: 256 })]);

/** Fields every point has, whatever its transport. Transforms apply in the order listed here. */
export const pointCommon = {
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

const ruleIdentity = {
  alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'e.g. smoke, fault, tamper; unique in the profile' }),
  level: Type.Integer({ minimum: 1, maximum: 5, description: '1 is most urgent' }),
  reason: Type.String({ minLength: 1, maxLength: 256, description: 'Human-readable reason sent with the raise' }),
  onDelaySeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400, description: 'The condition must hold this long before the raise (default 0)' })),
  offDelaySeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400, description: 'The condition must be gone this long before the clear (default 0)' })),
  latching: Type.Optional(Type.Boolean({ description: 'Once raised, clears only after a reset command and the condition being gone (default false)' })),
};
const ruleCommon = {
  point: Type.String({ pattern: SNAKE_CASE, description: 'Name of a point of this profile' }),
  ...ruleIdentity,
};

export const StateRule = Type.Object(
  {
    kind: Type.Literal('state', { description: 'Raise while a point equals whenValue, clear when it no longer does' }),
    ...ruleCommon,
    whenValue: Type.Optional(ReadingLiteral),
  },
  { additionalProperties: false },
);
export type StateRule = Static<typeof StateRule>;

/**
 * Raise when a number point crosses `limit` (`>=` or `<=`); clear only once it is back past the
 * limit by `deadband`, so a value hovering at the limit does not chatter.
 */
export const ThresholdRule = Type.Object(
  {
    kind: Type.Literal('threshold'),
    ...ruleCommon,
    op: Type.Union([Type.Literal('>='), Type.Literal('<=')], { description: 'Raise when value op limit' }),
    limit: Type.Number({ description: 'In the point unit' }),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Default 0. Clear when the value is back on the normal side of limit by more than this' })),
  },
  { additionalProperties: false },
);
export type ThresholdRule = Static<typeof ThresholdRule>;

/** Raise when a number point rose (or fell) by at least `delta` within `windowSeconds`; clear when it no longer did. */
export const RateRule = Type.Object(
  {
    kind: Type.Literal('rate'),
    ...ruleCommon,
    direction: Type.Union([Type.Literal('rise'), Type.Literal('fall')]),
    delta: Type.Number({ exclusiveMinimum: 0, description: 'Change in the point unit' }),
    windowSeconds: Type.Number({ minimum: 1, maximum: 86400 }),
  },
  { additionalProperties: false },
);
export type RateRule = Static<typeof RateRule>;

/**
 * Inactivity of a cumulative counter: raise when it advanced by less than `minDelta` within
 * `windowSeconds` (a water meter showing no use for 12 h: welfare check); clear when it advances
 * by `minDelta` again. Evaluated on every report and on the clock.
 */
export const InactivityRule = Type.Object(
  {
    kind: Type.Literal('inactivity'),
    ...ruleCommon,
    minDelta: Type.Number({ exclusiveMinimum: 0, description: 'Smallest advance that counts as activity, in the point unit' }),
    windowSeconds: Type.Number({ minimum: 60, maximum: 30 * 86400 }),
  },
  { additionalProperties: false },
);
export type InactivityRule = Static<typeof InactivityRule>;

/**
 * Persistent activity: raise when every `slotSeconds` slot of the last `windowSeconds` had a
 * reading with the number point `>` `above` (flow in every half hour for 24 h: suspected leak);
 * clear after a whole slot without one.
 */
export const ContinuousRule = Type.Object(
  {
    kind: Type.Literal('continuous'),
    ...ruleCommon,
    above: Type.Number({ description: 'A reading above this value makes its slot active' }),
    slotSeconds: Type.Number({ minimum: 1, maximum: 86400 }),
    windowSeconds: Type.Number({ minimum: 1, maximum: 30 * 86400 }),
  },
  { additionalProperties: false },
);
export type ContinuousRule = Static<typeof ContinuousRule>;

/** Raise when the device sent nothing for `missed` × the profile's heartbeatSeconds; clear on the next report. */
export const HeartbeatRule = Type.Object(
  {
    kind: Type.Literal('heartbeat'),
    ...ruleIdentity,
    missed: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Heartbeats missed before the raise; default 3' })),
  },
  { additionalProperties: false },
);
export type HeartbeatRule = Static<typeof HeartbeatRule>;

/** Raise while every alarm type in `all` is active on the device (smoke plus rising temperature: confirmed fire). */
export const CombinationRule = Type.Object(
  {
    kind: Type.Literal('combination'),
    ...ruleIdentity,
    all: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), { minItems: 2, maxItems: 8, description: 'Alarm types of earlier rules of this profile' }),
  },
  { additionalProperties: false },
);
export type CombinationRule = Static<typeof CombinationRule>;

/** Rule kinds, discriminated by `kind`; the loader selects the member by `kind` so errors stay precise. */
export const RuleSchemas = {
  state: StateRule,
  threshold: ThresholdRule,
  rate: RateRule,
  inactivity: InactivityRule,
  continuous: ContinuousRule,
  heartbeat: HeartbeatRule,
  combination: CombinationRule,
} as const;
export type Rule = StateRule | ThresholdRule | RateRule | InactivityRule | ContinuousRule | HeartbeatRule | CombinationRule;
export type PointRule = Exclude<Rule, HeartbeatRule | CombinationRule>;
export const RULE_KINDS = Object.keys(RuleSchemas) as Array<keyof typeof RuleSchemas>;
export const RuleSchema = Type.Union(Object.values(RuleSchemas));

export function isPointRule(rule: Rule): rule is PointRule {
  return rule.kind !== 'heartbeat' && rule.kind !== 'combination';
}

export function profileSchema<T extends string, P extends TSchema, E extends TProperties>(transport: T, point: P, extra: E) {
  return Type.Object(
    {
      id: Type.String({ pattern: PROFILE_ID, maxLength: 128, description: '`vendor/model`, unique in the collection' }),
      version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', description: 'Profile version (semver)' }),
      name: Type.String({ minLength: 1, maxLength: 128 }),
      description: Type.Optional(Type.String({ maxLength: 1024 })),
      class: literals(DEVICE_CLASSES, { description: 'What kind of device this is' }),
      transport: Type.Literal(transport),
      ...extra,
      points: Type.Array(point, { minItems: 1, maxItems: 512 }),
      testPoint: Type.Optional(
        Type.String({
          pattern: SNAKE_CASE,
          description: 'Boolean point that marks a report as an installer test; events then carry test: true',
        }),
      ),
      heartbeatSeconds: Type.Integer({ minimum: 5, maximum: 86400, description: 'Expected report period' }),
      // The loader validates each rule against RuleSchemas[kind] first for precise errors.
      rules: Type.Array(RuleSchema, { maxItems: 256 }),
    },
    { additionalProperties: false },
  );
}

