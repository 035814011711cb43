// Captured-frame test vectors kept beside each profile (`<model>.vectors.yaml`). Cases run in
// order against one device, so rule state (raised alarms) carries from case to case.
import { Type, type Static } from '@sinclair/typebox';
import { SNAKE_CASE } from './schema.ts';

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
    cases: Type.Array(VectorCase, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type VectorsFile = Static<typeof VectorsFile>;
