// Captured-frame test vectors kept beside each profile (`<model>.vectors.yaml`). Cases run in
// order against one device, so rule state (raised alarms) carries from case to case. The input of
// a case is one of: `payload`/`raw` (MQTT), `frame` (serial: the whole frame as hex), `registers`
// (Modbus: blocks as read), `response` (Modbus: a captured RTU response ADU as hex, for a `read`),
// or `command` (a write; `bytes` is the RTU request ADU the gateway must send).
import { Type, type Static } from '@sinclair/typebox';
import { HEX_BYTES, SNAKE_CASE } from './schema.ts';
import { MODBUS_TABLES } from './transports/modbus.ts';

const Value = Type.Union([Type.Boolean(), Type.Number(), Type.String()]);

export const ExpectedEvent = Type.Object(
  {
    action: Type.Union([Type.Literal('raise'), Type.Literal('clear')]),
    alarmType: Type.String({ pattern: SNAKE_CASE }),
    level: Type.Integer({ minimum: 1, maximum: 5 }),
    test: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ExpectedEvent = Static<typeof ExpectedEvent>;

export const VectorCase = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    payload: Type.Optional(Type.Unknown({ description: 'JSON value the device publishes (encoded by the runner)' })),
    raw: Type.Optional(Type.String({ description: 'Exact bytes (UTF-8) the device publishes, for malformed input' })),
    frame: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Serial: one whole frame as hex' })),
    registers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            table: Type.Union(MODBUS_TABLES.map((t) => Type.Literal(t))),
            address: Type.Integer({ minimum: 0, maximum: 65535 }),
            values: Type.Array(Type.Integer({ minimum: 0, maximum: 65535 }), { minItems: 1, description: 'Registers, or 0/1 per coil' }),
          },
          { additionalProperties: false },
        ),
        { description: 'Modbus: blocks as read from the device' },
      ),
    ),
    read: Type.Optional(
      Type.Object(
        {
          table: Type.Union(MODBUS_TABLES.map((t) => Type.Literal(t))),
          address: Type.Integer({ minimum: 0, maximum: 65535 }),
          count: Type.Integer({ minimum: 1, maximum: 2000 }),
        },
        { additionalProperties: false, description: 'Modbus: the read a captured `response` answers' },
      ),
    ),
    request: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Modbus: the RTU request ADU the gateway sends for `read`' })),
    response: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Modbus: captured RTU response ADU for `read`' })),
    command: Type.Optional(
      Type.Object(
        { point: Type.String({ pattern: SNAKE_CASE }), value: Value },
        { additionalProperties: false, description: 'A write the gateway sends; `bytes` is the expected request' },
      ),
    ),
    bytes: Type.Optional(Type.String({ pattern: HEX_BYTES, description: 'Expected RTU request ADU of `command`' })),
    readings: Type.Optional(Type.Record(Type.String({ pattern: SNAKE_CASE }), Value, { description: 'Exactly the decoded readings' })),
    events: Type.Optional(Type.Array(ExpectedEvent, { description: 'Exactly the events, in order; default none' })),
    error: Type.Optional(Type.String({ description: 'Substring of the decode rejection reason' })),
  },
  { additionalProperties: false },
);
export type VectorCase = Static<typeof VectorCase>;

export const VectorsFile = Type.Object(
  {
    profile: Type.String({ description: 'Id of the profile these vectors exercise' }),
    unitId: Type.Optional(Type.Integer({ minimum: 1, maximum: 247, description: 'Modbus unit id for request/response ADUs; default 1' })),
    cases: Type.Array(VectorCase, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type VectorsFile = Static<typeof VectorsFile>;
