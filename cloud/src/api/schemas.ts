// The API's value shapes as TypeBox schemas: each one validates requests, is served in the OpenAPI
// document (schemas with an $id become #/components/schemas/<id>) and yields the TypeScript type.
// Where a domain module already declares the type (Incident, AuditEntry, DispatchMessage …), a
// compile-time check below keeps the two equal: a field added there without being documented here
// fails the type check.
import { ReadingValue } from '@gridwatch/protocol';
import { FormatRegistry, Type, type Static, type TLiteral, type TSchema, type TString, type TUnion } from '@sinclair/typebox';
import type { Consumer } from '../dispatch/consumers.ts';
import type { DispatchMessage } from '../dispatch/queue.ts';
import type { AuditEntry, Incident } from '../incidents/incident.ts';
import { INCIDENT_STATUSES } from '../incidents/incident.ts';
import type { Address, Unit } from '../routing/directory.ts';
import type { DeadlineView, EventReadings, Overview, TestEvent } from '../console/queries.ts';

// The JSON Schema formats the API uses; TypeBox checks only registered ones.
if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (value) => URL.canParse(value));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)));

/** Custom 400 text for a schema ("<field>: <text>") where the generic one would say less. */
export const ERROR_TEXT = Symbol('gridwatch.errorText');

export function withErrorText<T extends TSchema>(schema: T, text: string): T {
  return Object.assign(schema, { [ERROR_TEXT]: text });
}

/** Non-blank: what `requiredStr` used to check by hand. */
export const NON_BLANK = '\\S';

export function text(maxLength: number, options: { description?: string } = {}): TString {
  return Type.String({ maxLength, ...options });
}

export function requiredText(maxLength: number, options: { description?: string } = {}): TString {
  return Type.String({ maxLength, pattern: NON_BLANK, ...options });
}

export function oneOf<V extends string>(values: readonly V[], options: { description?: string } = {}): TUnion<TLiteral<V>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

const ID_SEGMENT = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

/** A gateway, device or unit id: one MQTT topic segment (protocol `isIdSegment`). */
export function idSegment(what: string): TString {
  return withErrorText(Type.String({ pattern: ID_SEGMENT, description: `${what} id` }), `expected a ${what} id`);
}

export const IdParam = Type.Object({ id: withErrorText(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), 'expected a positive integer') });

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const EpochMs = Type.Integer({ description: 'epoch milliseconds' });

export const ErrorBody = Type.Object({ error: Type.String({ description: 'Starts with the offending field (or authorization/session)' }) }, { $id: 'Error' });

/** Schema keyword of a query parameter that may be repeated (?level=1&level=2); the values arrive comma-joined. */
export const LIST = 'x-list';

/** A comma-separated (or repeated) query list whose items match `item` (a regular expression source). */
export function commaList(item: string, options: { description?: string } = {}): TString {
  return withErrorText(Type.String({ pattern: `^${item}(,${item})*$`, maxLength: 200, [LIST]: true, ...options }), 'expected a comma-separated list');
}

/** Parameters of a server code (`{name}` placeholders of its label). */
export const CodeParamsSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'Parameters filling the code’s label placeholders' });

export const IncidentSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: oneOf(['device', 'correlated', 'flood', 'gateway'] as const),
    gatewayId: Type.String(),
    site: Type.String(),
    deviceId: Type.String(),
    alarmType: Type.String(),
    hazard: Nullable(Type.String({ description: 'Hazard family of alarmType (fire, gas, water, …); correlation joins one family only' })),
    level: Type.Integer({ minimum: 1, maximum: 5 }),
    status: oneOf(INCIDENT_STATUSES),
    alarmState: oneOf(['active', 'returned'] as const, { description: "ISA-18.2 alarm state: 'returned' once every device is back to normal (with an open status before acknowledged: returned, unacknowledged)" }),
    open: Type.Boolean(),
    reason: Type.String({ description: 'English, for logs; staff read reasonCode with reasonParams' }),
    reasonCode: Type.String({ description: 'Why the incident exists, as a code: label `reason.<code>` in the console’s codes.json' }),
    reasonParams: CodeParamsSchema,
    addressId: Nullable(Type.String()),
    addressText: Nullable(Type.String({ description: 'Postal text of the address, e.g. 罗湖区东晓街道水贝二路12号' })),
    placeName: Nullable(Type.String({ description: 'Shop or household at the address' })),
    members: Type.Array(
      Type.Object({ gatewayId: Type.String(), deviceId: Type.String(), alarmType: Type.String(), addressId: Nullable(Type.String()) }),
      { description: 'Every device and address joined into the incident, first one first' },
    ),
    building: Nullable(Type.String()),
    grid: Nullable(Type.String()),
    community: Nullable(Type.String()),
    street: Nullable(Type.String()),
    district: Nullable(Type.String()),
    tier: Nullable(Type.String({ description: 'Where on the escalation ladder the incident sits now' })),
    unitId: Nullable(Type.String({ description: 'The unit responsible now' })),
    unitName: Nullable(Type.String({ description: 'Display name of that unit' })),
    escalations: Type.Integer(),
    deviceCount: Type.Integer({ description: 'Devices joined by correlation' }),
    dispatchable: Type.Boolean({ description: 'False for chattering sources and flood-group members: recorded, not dispatched' }),
    chattering: Type.Boolean(),
    groupId: Nullable(Type.Integer({ description: 'The flood-group notice (or chattering incident) this incident was folded into' })),
    lane: oneOf(['emergency', 'maintenance'] as const, { description: 'Emergency board, or the installer/property unit maintenance queue (faults, tamper, low battery, offline)' }),
    memberCount: Type.Integer({ description: 'Incidents folded into this one; list them with ?groupId=<id>' }),
    verification: Nullable(oneOf(['pre_alarm', 'confirmed', 'unconfirmed'] as const, { description: "Smoke verification: 'pre_alarm' (预警) not dispatched yet; 'unconfirmed' cleared before verification (counts as a false alarm); null = dispatched at once" })),
    shelvedUntil: Nullable(Type.String({ format: 'date-time', description: 'Shelved (搁置, ISA-18.2) until this time: off the board, deadlines paused; null = not shelved' })),
    shelvedReason: Type.String({ description: 'Why it was shelved; empty when not shelved' }),
    occurrences: Type.Integer(),
    firstEventId: Type.String(),
    raisedEdgeTime: EpochMs,
    raisedAt: EpochMs,
    clearedAt: Nullable(EpochMs),
    acknowledgedAt: Nullable(EpochMs),
    onSiteAt: Nullable(EpochMs),
    resolvedAt: Nullable(EpochMs),
    closedAt: Nullable(EpochMs),
    updatedAt: EpochMs,
  },
  { $id: 'Incident' },
);

export const DeadlineSchema = Type.Object(
  { kind: Type.String(), dueAt: EpochMs, firedAt: Nullable(EpochMs), cancelledAt: Nullable(EpochMs) },
  { $id: 'Deadline' },
);

export const IncidentList = Type.Object(
  { incidents: Type.Array(Type.Composite([IncidentSchema, Type.Object({ deadlines: Type.Optional(Type.Array(DeadlineSchema, { description: 'Pending deadlines, with ?deadlines=pending' })) })])) },
  { $id: 'IncidentList' },
);

export const AuditEntrySchema = Type.Object(
  {
    id: Type.Integer(),
    at: EpochMs,
    actor: Type.String(),
    actorName: Type.String({ description: 'The display name of a user actor; empty for the system, gateways and consumers' }),
    source: Type.String(),
    action: Type.String(),
    fromStatus: Nullable(Type.String()),
    toStatus: Nullable(Type.String()),
    note: Type.String({ description: 'A staff member’s words, or the English of a system note' }),
    noteCode: Nullable(Type.String({ description: 'System notes: label `audit.<code>` in codes.json; null for a staff member’s own words' })),
    noteParams: CodeParamsSchema,
    deadlineId: Nullable(Type.Integer()),
  },
  { $id: 'AuditEntry' },
);

export const AuditList = Type.Object({ audit: Type.Array(AuditEntrySchema) }, { $id: 'AuditList' });

export const AddressSchema = Type.Object(
  {
    addressId: Type.String(),
    addressText: Type.String({ description: "Postal text, e.g. 罗湖区东晓街道水贝二路12号 ('' when not imported)" }),
    placeName: Type.String({ description: 'Shop or household at the address' }),
    contactPhone: Type.String(),
    building: Type.String(),
    unit: Type.String(),
    floor: Type.String(),
    room: Type.String(),
    grid: Type.String(),
    community: Type.String(),
    street: Type.String(),
    district: Type.String(),
    lat: Nullable(Type.Number()),
    lon: Nullable(Type.Number()),
  },
  { $id: 'Address' },
);

export const UnitSchema = Type.Object(
  { id: Type.String(), name: Type.String(), type: Type.String(), tier: oneOf(['grid', 'community', 'street', 'district'] as const), area: Type.String() },
  { $id: 'Unit' },
);

export const LatestReadingSchema = Type.Object({ deviceId: Type.String(), point: Type.String(), value: ReadingValue, t: EpochMs }, { $id: 'LatestReading' });

const EventReadingsSchema = Type.Object({
  eventId: Type.String(),
  action: Type.String(),
  level: Type.Integer(),
  reason: Type.String(),
  edgeTime: EpochMs,
  cloudTime: EpochMs,
  test: Type.Boolean(),
  readings: Type.Unknown({ description: 'The readings the edge attached to the event' }),
});

export const IncidentContextSchema = Type.Object(
  {
    address: Nullable(AddressSchema),
    events: Type.Array(EventReadingsSchema, { description: 'Alarm events of the incident’s devices from 10 minutes before it was raised (≤ 50)' }),
    deadlines: Type.Array(DeadlineSchema),
    latest: Type.Array(LatestReadingSchema),
  },
  { $id: 'IncidentContext' },
);

export const OverviewSchema = Type.Object(
  {
    byLevel: Type.Record(Type.String(), Type.Integer()),
    byStatus: Type.Record(Type.String(), Type.Integer()),
    onTimeRate: Nullable(Type.Number()),
    level1AckWithin5Min: Nullable(Type.Number()),
    level1AckTarget: Type.Number(),
    falseAlarmsByDevice: Type.Array(Type.Object({ gatewayId: Type.String(), deviceId: Type.String(), count: Type.Integer() })),
    offlineGateways: Type.Array(Type.Object({ gatewayId: Type.String(), site: Type.String(), lastSeenAt: Nullable(EpochMs) })),
    offlineDevices: Type.Array(Type.Object({ gatewayId: Type.String(), deviceId: Type.String(), since: EpochMs })),
    telemetryDropped: Type.Object(
      { lines: Type.Integer({ description: 'Lines the TSDB sink gave up on' }), messages: Type.Integer({ description: 'Messages the embedded broker dropped' }) },
      { description: 'Telemetry dropped by policy since this cloud process started (all jurisdictions)' },
    ),
  },
  { $id: 'Overview' },
);

export const TestEventSchema = Type.Object(
  {
    eventId: Type.String(),
    gatewayId: Type.String(),
    deviceId: Type.String(),
    alarmType: Type.String(),
    level: Type.Integer(),
    edgeTime: EpochMs,
    cloudTime: EpochMs,
    uplinkMs: Type.Integer({ description: 'cloudTime − edgeTime' }),
    readings: Type.Unknown(),
    address: Nullable(AddressSchema),
    routedTo: Nullable(Type.Object({ tier: Type.String(), unit: Nullable(UnitSchema) }, { description: 'Where a real alarm from this device would be dispatched' })),
    grid: Nullable(Type.String()),
    community: Nullable(Type.String()),
    street: Nullable(Type.String()),
    district: Nullable(Type.String()),
  },
  { $id: 'TestEvent' },
);

export const DispatchMessageSchema = Type.Object(
  {
    id: Type.Integer(),
    incidentId: Type.Integer(),
    kind: oneOf(['dispatch', 'escalation', 'update'] as const),
    unitId: Nullable(Type.String()),
    incident: IncidentSchema,
    deliveries: Type.Integer({ description: 'How many times the message was handed out (claims and webhook attempts)' }),
    attempts: Type.Integer(),
    leaseToken: Nullable(Type.String()),
    leaseUntil: Nullable(EpochMs),
    state: oneOf(['ready', 'leased', 'acked', 'dead'] as const),
    lastError: Nullable(Type.String()),
  },
  { $id: 'DispatchMessage' },
);

export const MessageList = Type.Object({ messages: Type.Array(DispatchMessageSchema) }, { $id: 'MessageList' });

export const ConsumerSchema = Type.Object(
  { id: Type.String(), name: Type.String(), units: Type.Array(Type.String()), webhookUrl: Nullable(Type.String()) },
  { $id: 'Consumer' },
);

export const PublicUser = Type.Object(
  { username: Type.String(), displayName: Type.String(), role: Type.String(), jurisdictions: Type.Array(Type.String()) },
  { $id: 'User' },
);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// One source per fact: these fail to compile when a domain type and its documented schema drift.
export const SCHEMAS_MATCH_DOMAIN_TYPES: [
  Equal<Static<typeof IncidentSchema>, Incident>,
  Equal<Static<typeof AuditEntrySchema>, AuditEntry>,
  Equal<Static<typeof DispatchMessageSchema>, DispatchMessage<Incident>>,
  Equal<Static<typeof AddressSchema>, Address>,
  Equal<Static<typeof UnitSchema>, Unit>,
  Equal<Static<typeof DeadlineSchema>, DeadlineView>,
  Equal<Static<typeof EventReadingsSchema>, EventReadings>,
  Equal<Static<typeof OverviewSchema>, Overview>,
  Equal<Omit<Static<typeof TestEventSchema>, 'grid' | 'community' | 'street' | 'district'>, TestEvent>,
  Equal<Static<typeof ConsumerSchema>, Consumer>,
] = [true, true, true, true, true, true, true, true, true, true];
