// Schema of a device profile: what a device model says and how to read it. Connection details
// (addresses, credentials, bus, unit id) live in the installation's device list, never here. The
// schema's descriptions are the documentation; unknown keys are errors so a typo fails at load time.
//
// Shape: the fields shared by every transport live in `pointCommon` and `profileSchema`; each
// transport adds its own point addressing (`path` for MQTT/JSON, table/address/rawType for Modbus,
// byte offset/rawType for serial frames) and is one member of `Profile`, discriminated by
// `transport`.
import { Type, type Static, type TLiteral, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

export const TRANSPORTS = ['mqtt', 'modbus', 'serial'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Transports that have a profile schema; the loader refuses others with a clear message. */
export const SUPPORTED_TRANSPORTS = ['mqtt', 'modbus', 'serial'] as const satisfies readonly Transport[];

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
/** Hex bytes, optionally separated by spaces: `02`, `0D 0A`, `01030000000AC5CD`. */
export const HEX_BYTES = '^([0-9A-Fa-f]{2} ?)+$';

type LiteralTuple<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals that keeps the literal types (Type.Union over a mapped array does not). */
function literals<const T extends readonly string[]>(values: T, options: { description: string }): TUnion<LiteralTuple<T>> {
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

export const MODBUS_TABLES = ['coil', 'discrete', 'holding', 'input'] as const;
export type ModbusTable = (typeof MODBUS_TABLES)[number];
export const REGISTER_RAW_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export const MODBUS_RAW_TYPES = ['bool', ...REGISTER_RAW_TYPES] as const;
export type ModbusRawType = (typeof MODBUS_RAW_TYPES)[number];
export const BYTE_ORDERS = ['big', 'little'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/**
 * A Modbus point (Modbus Application Protocol V1.1b3 §4.3 data model: coils, discrete inputs,
 * holding registers, input registers). Addresses are PDU addresses, 0-based (§4.4): "register
 * 40001" of a vendor manual is holding address 0.
 */
export const ModbusPoint = Type.Object(
  {
    ...pointCommon,
    table: literals(MODBUS_TABLES, { description: 'coil (FC1/5/15), discrete input (FC2), holding register (FC3/6/16), input register (FC4)' }),
    address: Type.Integer({ minimum: 0, maximum: 65535, description: 'PDU address, 0-based (§4.4)' }),
    rawType: Type.Optional(
      literals(MODBUS_RAW_TYPES, {
        description: 'bool for coils/discrete inputs; registers default to uint16; 32-bit types span two registers',
      }),
    ),
    byteOrder: Type.Optional(
      literals(BYTE_ORDERS, { description: 'Byte order inside each register; Modbus is big-endian (§4.2), default big' }),
    ),
    wordOrder: Type.Optional(
      literals(BYTE_ORDERS, { description: '32-bit values: big = high word at the lower address (ABCD), little = CDAB; default big' }),
    ),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'boolean point from one bit of a 16-bit register, 0 = LSB' })),
    access: Type.Optional(
      literals(['read', 'readwrite'] as const, { description: 'readwrite: coils and holding registers the gateway may write; default read' }),
    ),
  },
  { additionalProperties: false },
);
export type ModbusPoint = Static<typeof ModbusPoint>;

export const SERIAL_RAW_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bcd'] as const;
export type SerialRawType = (typeof SERIAL_RAW_TYPES)[number];

/** A field of a serial frame at a fixed byte offset from the first byte of the frame. */
export const SerialPoint = Type.Object(
  {
    ...pointCommon,
    byteOffset: Type.Integer({ minimum: 0, maximum: 1023, description: 'Byte offset from the first byte of the frame (start bytes included)' }),
    rawType: literals(SERIAL_RAW_TYPES, { description: 'Field encoding; bcd is packed BCD of `length` bytes' }),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'bcd only: number of bytes' })),
    byteOrder: Type.Optional(literals(BYTE_ORDERS, { description: 'Multi-byte fields; default big' })),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'boolean point from one bit of the raw integer, 0 = LSB' })),
  },
  { additionalProperties: false },
);
export type SerialPoint = Static<typeof SerialPoint>;

export const CHECKSUM_KINDS = ['none', 'crc16_modbus', 'xor', 'sum8'] as const;
export type ChecksumKind = (typeof CHECKSUM_KINDS)[number];

/**
 * How a byte stream is cut into frames: `[start][...body...][checksum][end]`. The length rule
 * finds the end of a frame; the checksum covers bytes `from` up to the checksum itself.
 */
export const Framing = Type.Object(
  {
    start: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Start-of-frame bytes, e.g. "02" (STX); used to resynchronise' })),
    end: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'End-of-frame bytes, e.g. "03" (ETX) or "0D 0A"' })),
    length: Type.Union(
      [
        Type.Object({ kind: Type.Literal('delimiter', { description: 'The frame ends at `end`' }) }, { additionalProperties: false }),
        Type.Object(
          { kind: Type.Literal('fixed'), bytes: Type.Integer({ minimum: 2, maximum: 1024, description: 'Whole frame length' }) },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            kind: Type.Literal('prefixed'),
            offset: Type.Integer({ minimum: 0, maximum: 64, description: 'Offset of the length field' }),
            size: Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Size of the length field in bytes' }),
            byteOrder: Type.Optional(literals(BYTE_ORDERS, { description: 'default big' })),
            adjust: Type.Integer({
              minimum: -64,
              maximum: 64,
              description: 'Whole frame length = offset + size + value + adjust (adjust counts checksum and end bytes)',
            }),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'How the end of a frame is found' },
    ),
    checksum: Type.Object(
      {
        kind: literals(CHECKSUM_KINDS, { description: 'crc16_modbus (2 bytes, low byte first), xor or sum8 (1 byte, sum mod 256)' }),
        from: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'First byte covered, default 0; coverage ends at the checksum' })),
      },
      { additionalProperties: false },
    ),
    maxBytes: Type.Optional(Type.Integer({ minimum: 4, maximum: 1024, description: 'Default 256; longer frames are dropped and the stream resynchronised' })),
  },
  { additionalProperties: false },
);
export type Framing = Static<typeof Framing>;

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

function profileSchema<T extends Transport, P extends TSchema, E extends TProperties>(transport: T, point: P, extra: E) {
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

export const MqttProfile = profileSchema('mqtt', MqttPoint, {
  payload: Type.Object(
    { format: Type.Literal('json', { description: 'The device publishes one JSON object per report' }) },
    { additionalProperties: false },
  ),
});
export type MqttProfile = Static<typeof MqttProfile>;

export const ModbusProfile = profileSchema('modbus', ModbusPoint, {
  modbus: Type.Optional(
    Type.Object(
      {
        maxRegistersPerRead: Type.Optional(Type.Integer({ minimum: 1, maximum: 125, description: 'FC3/FC4 quantity limit, default and §6.3 maximum 125' })),
        maxBitsPerRead: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, description: 'FC1/FC2 quantity limit, default and §6.1 maximum 2000' })),
        maxGap: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 16,
            description: 'Default 0. Unused addresses a read may span to join two blocks; only if the device answers for them',
          }),
        ),
      },
      { additionalProperties: false, description: 'Model limits for coalescing reads' },
    ),
  ),
});
export type ModbusProfile = Static<typeof ModbusProfile>;

export const SerialProfile = profileSchema('serial', SerialPoint, { framing: Framing });
export type SerialProfile = Static<typeof SerialProfile>;

/** Per-transport profile schemas; the loader picks one by the file's `transport`. */
export const ProfileSchemas = { mqtt: MqttProfile, modbus: ModbusProfile, serial: SerialProfile } as const satisfies Record<
  (typeof SUPPORTED_TRANSPORTS)[number],
  TSchema
>;

export type Profile = MqttProfile | ModbusProfile | SerialProfile;
export type Point = Profile['points'][number];

/** Registers a Modbus point spans: 2 for 32-bit raw types, else 1 (coils/discrete: 1 bit). */
export function modbusWidth(point: ModbusPoint): number {
  const raw = point.rawType ?? (point.table === 'coil' || point.table === 'discrete' ? 'bool' : 'uint16');
  return raw === 'int32' || raw === 'uint32' || raw === 'float32' ? 2 : 1;
}

/** Raw type of a Modbus point with the default applied. */
export function modbusRawType(point: ModbusPoint): ModbusRawType {
  return point.rawType ?? (point.table === 'coil' || point.table === 'discrete' ? 'bool' : 'uint16');
}
