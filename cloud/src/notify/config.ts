// The notification configuration file (JSON): channels and their credential references, people
// and their contacts, duty rosters (值班表) per unit, escalation chains per level and alarm type,
// and the social end (per-address contacts). Validated when loaded: a typo fails at start-up with
// the path and what was expected (CONVENTIONS.md #7).
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LANGS } from './catalogue.ts';

const Id = Type.String({ minLength: 1, maxLength: 100 });
const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, local time (timeZone)' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, local date' });
const Tier = Type.Union([Type.Literal('grid'), Type.Literal('community'), Type.Literal('street'), Type.Literal('district')]);

const Contact = Type.Object({ channel: Id, to: Type.String({ minLength: 1 }), mention: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false });

const Person = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    lang: Type.Optional(Type.Union(LANGS.map((l) => Type.Literal(l)))),
    contacts: Type.Array(Contact, { minItems: 1 }),
    quietHours: Type.Optional(Type.Object({ from: Clock, to: Clock }, { additionalProperties: false, description: 'Not notified then — except for levels 1–2, which always reach the person' })),
  },
  { additionalProperties: false },
);

const Shift = Type.Object(
  {
    role: Id,
    people: Type.Array(Id, { minItems: 1 }),
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, description: 'ISO weekdays, 1 = Monday' }),
    from: Clock,
    to: Clock,
    holidays: Type.Optional(Type.Union([Type.Literal('also'), Type.Literal('only')], { description: 'also: on holidays too; only: on holidays only; absent: not on holidays' })),
  },
  { additionalProperties: false },
);

const Roster = Type.Object({ unit: Id, holidays: Type.Array(Day, { default: [] }), shifts: Type.Array(Shift, { minItems: 1 }) }, { additionalProperties: false });

const Step = Type.Object(
  {
    afterS: Type.Integer({ minimum: 0, description: 'Seconds after the incident was raised, if still unacknowledged' }),
    tier: Tier,
    role: Type.Optional(Id),
    channels: Type.Array(Id, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const Chain = Type.Object(
  {
    name: Id,
    levels: Type.Array(Type.Integer({ minimum: 1, maximum: 5 }), { minItems: 1 }),
    alarmTypes: Type.Optional(Type.Array(Id, { description: 'Absent: every alarm type' })),
    steps: Type.Array(Step, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const SocialContact = Type.Object(
  { addressId: Id, id: Id, name: Type.String({ minLength: 1 }), role: Id, channel: Id, to: Type.String({ minLength: 1 }), alarmTypes: Type.Array(Id, { minItems: 1 }) },
  { additionalProperties: false },
);

export const NotifyConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    timeZone: Type.String({ default: 'Asia/Shanghai' }),
    lang: Type.Union(LANGS.map((l) => Type.Literal(l)), { default: 'zh-CN' }),
    linkBaseUrl: Type.String({ pattern: '^https?://', description: 'Public origin of the cloud, for the acknowledge links' }),
    linkTtlS: Type.Integer({ minimum: 60, maximum: 7 * 86_400, default: 86_400 }),
    delivery: Type.Object(
      {
        maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 5 }),
        backoffMs: Type.Integer({ minimum: 10, default: 15_000 }),
        maxBackoffMs: Type.Integer({ minimum: 10, default: 600_000 }),
        timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        perRecipient: Type.Object({ max: Type.Integer({ minimum: 1, default: 20 }), windowS: Type.Integer({ minimum: 1, default: 600 }) }, { default: {} }),
      },
      { additionalProperties: false, default: {} },
    ),
    channels: Type.Record(Id, Type.Unknown(), { description: 'Channel id → its settings (each channel’s README)' }),
    people: Type.Array(Person),
    rosters: Type.Array(Roster),
    chains: Type.Array(Chain),
    social: Type.Object({ enabledTypes: Type.Array(Id, { default: [] }), contacts: Type.Array(SocialContact, { default: [] }) }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false },
);
export type NotifyConfig = Static<typeof NotifyConfigSchema>;
export type Person = Static<typeof Person>;
export type Roster = Static<typeof Roster>;
export type Shift = Static<typeof Shift>;
export type Chain = Static<typeof Chain>;
export type ChainStep = Static<typeof Step>;
export type SocialContact = Static<typeof SocialContact>;

export class NotifyConfigError extends Error {
  override readonly name = 'NotifyConfigError';
}

/** Validates (defaults applied) and cross-checks references: people in shifts, channels in use. */
export function parseNotifyConfig(raw: unknown, source = 'notify config'): NotifyConfig {
  const value: unknown = Value.Default(NotifyConfigSchema, structuredClone(raw));
  const first = Value.Errors(NotifyConfigSchema, value).First();
  if (first) throw new NotifyConfigError(`${source}: ${first.path || '/'}: ${first.message}`);
  const config = value as NotifyConfig;
  const people = new Set(config.people.map((p) => p.id));
  config.rosters.forEach((r, i) =>
    r.shifts.forEach((s, j) =>
      s.people.forEach((id) => {
        if (!people.has(id)) throw new NotifyConfigError(`${source}: /rosters/${i}/shifts/${j}/people: unknown person ${id}`);
      }),
    ),
  );
  const used = [...config.people.flatMap((p) => p.contacts.map((c) => c.channel)), ...config.chains.flatMap((c) => c.steps.flatMap((s) => s.channels)), ...config.social.contacts.map((c) => c.channel)];
  for (const channel of used) if (!(channel in config.channels)) throw new NotifyConfigError(`${source}: /channels: ${channel} is used but not configured`);
  return config;
}

export function loadNotifyConfig(file: string): NotifyConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NotifyConfigError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseNotifyConfig(raw, file);
}
