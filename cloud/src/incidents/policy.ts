// Alarm management policy as data (ISA-18.2 / IEC 62682 §§ 16–18 "alarm management"): chattering,
// floods, correlation window, smoke verification and the maintenance lane's deadlines, with defaults,
// overridable per alarm type and per area (community or district). Every window is measured on the
// events' own edge times, never the database clock, so a scripted day replays at any speed with the
// same result (docs/ALARM-MANAGEMENT.md lists every knob).
import { readFileSync } from 'node:fs';
import { Type, type Static, type TInteger } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Seconds = (max: number, description: string): TInteger => Type.Integer({ minimum: 0, maximum: max, description });
const Count = (description: string): TInteger => Type.Integer({ minimum: 1, maximum: 10_000, description });

const Chatter = Type.Object(
  {
    count: Count('Raises of one source within windowS that make it chattering (ISA-18.2: ≥ 3 per minute is the usual definition)'),
    windowS: Seconds(86_400, 'Window the raises are counted in; ≥ 2 × the slowest toggle period to be caught'),
    releaseS: Seconds(86_400, 'Quiet time after which a chattering source is released: its next raise is a new, dispatched incident'),
  },
  { additionalProperties: false },
);
const Flood = Type.Object(
  {
    count: Count('Board items of one community within windowS that make a flood; the next one opens the grouped notice (ISA-18.2: > 10 per 10 minutes)'),
    windowS: Seconds(86_400, 'Window the items are counted in'),
    quietS: Seconds(86_400, 'The notice closes once no member alarmed for this long'),
    fold: Type.Boolean({ description: 'Whether alarms of this type fold into a flood notice' }),
  },
  { additionalProperties: false },
);
const Verification = Type.Object(
  {
    enabled: Type.Boolean({ description: 'GB 50116 alarm verification for a single detector: pre-alarm first (off by default)' }),
    verifyS: Seconds(30, 'A pre-alarm still active after this long is dispatched (≤ 30 s)'),
    confirmS: Seconds(3600, 'A repeat of the same detector within this period confirms the pre-alarm'),
  },
  { additionalProperties: false },
);
/** The full rule set of one type in one area (the defaults always carry every field). */
export const AlarmRulesSchema = Type.Object(
  {
    chatter: Chatter,
    flood: Flood,
    correlationWindowS: Seconds(86_400, 'Another device of the same hazard family in the building joins within this time'),
    verification: Verification,
  },
  { additionalProperties: false },
);
const PartialRules = Type.Object(
  {
    chatter: Type.Optional(Type.Partial(Chatter)),
    flood: Type.Optional(Type.Partial(Flood)),
    correlationWindowS: Type.Optional(Seconds(86_400, 'See defaults')),
    verification: Type.Optional(Type.Partial(Verification)),
  },
  { additionalProperties: false },
);
const TypeName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });
const Overrides = Type.Object(
  { defaults: Type.Optional(PartialRules), types: Type.Optional(Type.Record(TypeName, PartialRules)) },
  { additionalProperties: false },
);
const LaneDeadlines = Type.Object(
  { ackS: Seconds(2_592_000, 'Acknowledge'), onSiteS: Seconds(2_592_000, 'On site'), resolveS: Seconds(2_592_000, 'Resolve') },
  { additionalProperties: false },
);

const Shelving = Type.Object(
  {
    maxHours: Type.Number({ exclusiveMinimum: 0, maximum: 720, description: 'Longest a shelve may last (ISA-18.2 § 17: shelving is time-limited)' }),
    levels: Type.Array(Type.Integer({ minimum: 1, maximum: 5 }), { uniqueItems: true, description: 'Levels that may be shelved; by default 3–5 (life-safety levels 1–2 may not be)' }),
  },
  { additionalProperties: false },
);

/** The policy file / `alarmPolicy` configuration section. */
export const AlarmPolicyInput = Type.Object(
  {
    version: Type.Literal(1),
    defaults: Type.Optional(PartialRules),
    types: Type.Optional(Type.Record(TypeName, PartialRules)),
    /** Keyed by community or district id; a community's entry wins over its district's. */
    areas: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Overrides)),
    maintenanceDeadlines: Type.Optional(Type.Partial(LaneDeadlines)),
    shelving: Type.Optional(Type.Partial(Shelving)),
  },
  { additionalProperties: false },
);
export type ShelvingPolicy = Static<typeof Shelving>;
export type AlarmPolicyInput = Static<typeof AlarmPolicyInput>;
export type AlarmRules = Static<typeof AlarmRulesSchema>;
type PartialAlarmRules = Static<typeof PartialRules>;
export type LaneDeadlineRow = Static<typeof LaneDeadlines>;

export interface AlarmPolicy {
  version: 1;
  defaults: AlarmRules;
  types: Record<string, PartialAlarmRules>;
  areas: Record<string, { defaults?: PartialAlarmRules; types?: Record<string, PartialAlarmRules> }>;
  /** Deadlines of maintenance-lane incidents (every level): the installer's working time, not a dispatch. */
  maintenanceDeadlines: LaneDeadlineRow;
  /** Shelving (搁置): how long at most, and which levels may be shelved at all. */
  shelving: ShelvingPolicy;
}

export const DEFAULT_RULES: Readonly<AlarmRules> = Object.freeze({
  chatter: { count: 3, windowS: 180, releaseS: 300 },
  flood: { count: 10, windowS: 600, quietS: 600, fold: true },
  correlationWindowS: 120,
  verification: { enabled: false, verifyS: 30, confirmS: 120 },
});

export const DEFAULT_ALARM_POLICY: Readonly<AlarmPolicy> = Object.freeze({
  version: 1,
  defaults: DEFAULT_RULES,
  types: {},
  areas: {},
  maintenanceDeadlines: { ackS: 4 * 3600, onSiteS: 24 * 3600, resolveS: 72 * 3600 },
  shelving: { maxHours: 8, levels: [3, 4, 5] },
});

export interface PolicyArea {
  community: string | null;
  district: string | null;
}

function merge(base: AlarmRules, over: PartialAlarmRules | undefined): AlarmRules {
  if (!over) return base;
  return {
    chatter: { ...base.chatter, ...over.chatter },
    flood: { ...base.flood, ...over.flood },
    correlationWindowS: over.correlationWindowS ?? base.correlationWindowS,
    verification: { ...base.verification, ...over.verification },
  };
}

/** The rules for one alarm type in one area: defaults < type < district (defaults, type) < community (defaults, type). */
export function rulesFor(policy: AlarmPolicy, alarmType: string, area: PolicyArea | null): AlarmRules {
  let rules = merge(policy.defaults, policy.types[alarmType]);
  for (const key of [area?.district, area?.community]) {
    const entry = key ? policy.areas[key] : undefined;
    if (entry) rules = merge(merge(rules, entry.defaults), entry.types?.[alarmType]);
  }
  return rules;
}

/** Parses a policy (object, JSON text, or the path of a JSON file); throws an Error naming the path. */
export function parseAlarmPolicy(value: unknown): AlarmPolicy {
  let input = value;
  if (typeof input === 'string') {
    const text = input.trim().startsWith('{') ? input : readPolicyFile(input);
    try {
      input = JSON.parse(text) as unknown;
    } catch {
      throw new Error('alarmPolicy: not JSON');
    }
  }
  if (!Value.Check(AlarmPolicyInput, input)) {
    const first = [...Value.Errors(AlarmPolicyInput, input)][0];
    throw new Error(`alarmPolicy${first?.path.replaceAll('/', '.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  const data = input;
  return {
    version: 1,
    defaults: merge(DEFAULT_RULES, data.defaults),
    types: data.types ?? {},
    areas: data.areas ?? {},
    maintenanceDeadlines: { ...DEFAULT_ALARM_POLICY.maintenanceDeadlines, ...data.maintenanceDeadlines },
    shelving: { ...DEFAULT_ALARM_POLICY.shelving, ...data.shelving },
  };
}

function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`alarmPolicy: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
