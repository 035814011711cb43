// The one registry of what the server says in words (issue #13, "one source of words"): every
// incident reason and every system audit note is a code with parameters. Staff read the code's
// label (cloud/src/console/labels/codes.json, zh-CN and en); the English sentence kept in
// `reason` / `note` for logs, CAP and older API callers is rendered here from the same code and
// parameters, so nobody writes a sentence by hand. The i18n completeness test enumerates REASONS
// and NOTES, so a code added here without labels fails it.

export type CodeParams = Record<string, string | number>;

interface CodeSpec {
  /** Parameter names; a label may use any of them as `{name}`. */
  readonly params: readonly string[];
  /** The English sentence for logs and API compatibility. */
  readonly en: string;
  /** Parameters whose value is itself a code, with every value it takes: labelled `param.<name>.<value>`. */
  readonly values?: Readonly<Record<string, readonly string[]>>;
}

/** Why an incident exists. `device_alarm` carries the edge's own words (the profile's reason) as `text`. */
export const REASONS = {
  device_alarm: { params: ['alarmType', 'text'], en: '{text}' },
  flood: { params: ['count', 'minutes', 'community'], en: '{count} or more alarms within {minutes} minutes in community {community}' },
  gateway_offline: { params: ['secs', 'holdOffS'], en: 'gateway offline for {secs} s (hold-off {holdOffS} s)' },
  /** Rows written before codes existed (migration 012), or by an INSERT that sets none. */
  text: { params: ['text'], en: '{text}' },
} as const satisfies Record<string, CodeSpec>;

/** System audit notes. Staff notes stay free text with no code. A reason can also be a note (the raise row). */
export const NOTES = {
  ...REASONS,
  chatter_recorded: { params: [], en: 'chattering source: recorded, not dispatched' },
  chatter_fold: { params: ['incident'], en: 'chattering source: folded into incident {incident}' },
  chatter_occurrence: {
    params: ['deviceId', 'alarmType', 'occurrences', 'releaseS'],
    en: '{deviceId} {alarmType} chattering: occurrence {occurrences}, recorded, not dispatched again until quiet for {releaseS} s',
  },
  chatter_flagged: { params: ['deviceId', 'alarmType'], en: '{deviceId} {alarmType} chattering' },
  flood_member: { params: ['notice'], en: 'folded into flood notice {notice}' },
  flood_fold_retro: { params: ['notice'], en: 'folded into flood notice {notice} (raised before the threshold was crossed)' },
  flood_quiet: { params: ['quietS'], en: 'no member alarmed for {quietS} s: the flood is over' },
  deadline_escalated: {
    params: ['deadline', 'fromTier', 'fromUnit', 'fromUnitName', 'toTier', 'toUnit', 'toUnitName'],
    en: '{deadline} deadline missed at {fromTier} ({fromUnit}); escalated to {toTier} {toUnit}',
  },
  deadline_top: { params: ['deadline', 'tier'], en: '{deadline} deadline missed at {tier}, the top of the ladder' },
  deadlines_recomputed: { params: ['deadlines', 'level'], en: 'deadlines {deadlines} recomputed for level {level}' },
  deadlines_recomputed_moved: { params: ['deadlines', 'level'], en: 'deadlines {deadlines} recomputed for level {level} from now for the new unit' },
  routed: { params: ['unitId', 'unitName', 'unitType', 'tier', 'area'], en: 'routed to {unitId} ({unitType}, {tier} {area})' },
  rerouted: {
    params: ['fromType', 'fromLevel', 'alarmType', 'level', 'fromUnit', 'fromUnitName', 'unitId', 'unitName', 'unitType', 'tier', 'area'],
    en: '{fromType} level {fromLevel} → {alarmType} level {level}: routed again from {fromUnit} to {unitId} ({unitType}, {tier} {area})',
  },
  pre_alarm_started: {
    params: ['verifyS', 'confirmS'],
    en: '预警 pre-alarm: dispatched if it persists {verifyS} s, repeats within {confirmS} s or a second detector confirms',
  },
  pre_alarm_repeat: { params: ['deviceId'], en: 'pre-alarm confirmed: {deviceId} alarmed again' },
  pre_alarm_repeat_within: { params: ['deviceId', 'confirmS'], en: 'pre-alarm confirmed: {deviceId} alarmed again within {confirmS} s' },
  pre_alarm_persisted: { params: [], en: 'pre-alarm confirmed: still in alarm at the verification time' },
  pre_alarm_second_detector: { params: ['deviceId'], en: 'pre-alarm confirmed: {deviceId} confirmed it' },
  pre_alarm_unconfirmed: { params: [], en: 'cleared before verification: recorded pre-alarm, counted as a false alarm of the device' },
  member_clear: { params: ['deviceId', 'alarmType'], en: '{deviceId} {alarmType} cleared; other sources still in alarm' },
  returned_unack: {
    params: ['deviceId'],
    en: '{deviceId} back to normal: returned, unacknowledged; stays open until staff acknowledge it (ISA-18.2)',
  },
  returned_ack: { params: ['deviceId'], en: '{deviceId} back to normal; staff close the incident' },
  device_cleared: { params: [], en: 'cleared by the device' },
  device_joined: {
    params: ['deviceId', 'alarmType', 'level', 'devices', 'incidentType', 'fromLevel', 'toLevel'],
    en: '{deviceId} ({alarmType}, level {level}) joined; {devices} devices, {incidentType} level {fromLevel} → {toLevel}',
  },
  device_joined_building: {
    params: ['deviceId', 'alarmType', 'level', 'building', 'devices', 'incidentType', 'fromLevel', 'toLevel'],
    en: '{deviceId} ({alarmType}, level {level}) in building {building} joined; {devices} devices, {incidentType} level {fromLevel} → {toLevel}',
  },
  late_event_stored: {
    params: ['event', 'seq', 'deviceId'],
    en: '{event} seq {seq} of {deviceId} arrived after a newer event of the source: stored, not applied',
  },
  notify_attempt: {
    params: ['channel', 'personId', 'role', 'recipient', 'step', 'attempt', 'result', 'detail'],
    en: 'notify {channel} → {personId} ({role}, {recipient}), step {step}, attempt {attempt}: {result} — {detail}',
    values: { result: ['sent', 'retry', 'dead', 'rate_limited'] },
  },
  ack_link: { params: ['channel'], en: 'from the {channel} link' },
  flood_group_ack: { params: ['notice'], en: 'acknowledged with flood notice {notice}' },
} as const satisfies Record<string, CodeSpec>;

export type ReasonCode = keyof typeof REASONS;
export type NoteCode = keyof typeof NOTES;
type ParamsOf<S extends CodeSpec> = { [P in S['params'][number]]: string | number };

export interface Reason {
  reason: string;
  reasonCode: ReasonCode;
  reasonParams: CodeParams;
}

export interface Note {
  note: string;
  noteCode: NoteCode;
  noteParams: CodeParams;
}

/** `{name}` → params[name]; an unknown name stays as written (the registry test catches it). */
export function fill(template: string, params: CodeParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function reasonOf<C extends ReasonCode>(code: C, params: ParamsOf<(typeof REASONS)[C]>): Reason {
  return { reason: fill(REASONS[code].en, params), reasonCode: code, reasonParams: params };
}

export function noteOf<C extends NoteCode>(code: C, params: ParamsOf<(typeof NOTES)[C]>): Note {
  return { note: fill(NOTES[code].en, params), noteCode: code, noteParams: params };
}

/** A reason written as the audit note of the row that raised the incident. */
export function noteOfReason(reason: Reason): Note {
  return { note: reason.reason, noteCode: reason.reasonCode, noteParams: reason.reasonParams };
}

/** The registry as data, for the label test and the docs: kind, code, parameter names. */
export interface ServerCode {
  kind: 'reason' | 'audit';
  code: string;
  params: readonly string[];
  values: Readonly<Record<string, readonly string[]>>;
}

export function serverCodes(): ServerCode[] {
  const spec = (kind: ServerCode['kind']) => ([code, s]: [string, CodeSpec]): ServerCode => ({ kind, code, params: s.params, values: s.values ?? {} });
  return [...Object.entries(REASONS).map(spec('reason')), ...Object.entries(NOTES).map(spec('audit'))];
}

/** A device's alarm: the edge's words for it (the profile rule's reason) under its alarm type. */
export function deviceReason(event: { alarmType: string; reason: string }): Reason {
  return reasonOf('device_alarm', { alarmType: event.alarmType, text: event.reason });
}
