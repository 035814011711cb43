// Parameters of server codes whose values are codes themselves (codes.json `_format`): before a
// label is filled, each is replaced by its own label, so a zh-CN reason never shows `smoke` or
// `grid`. Shared by the console (bundled) and the i18n completeness test; no imports, browser-safe.

export type CodeParamValue = string | number;

/** Where a code-valued parameter's label comes from. */
export type ParamKind = 'alarmType' | 'tier' | 'deadline' | 'deadlines' | 'event' | 'channel' | 'result';

/** Parameter name → kind. Any other parameter (ids, names, numbers, the edge's text) is shown as sent. */
export const CODE_PARAMS: Readonly<Record<string, ParamKind>> = {
  alarmType: 'alarmType',
  fromType: 'alarmType',
  incidentType: 'alarmType',
  tier: 'tier',
  fromTier: 'tier',
  toTier: 'tier',
  deadline: 'deadline',
  deadlines: 'deadlines',
  event: 'event',
  channel: 'channel',
  result: 'result',
};

/**
 * The UI or codes.json key of one code of a kind (alarm types come from the catalogue instead:
 * null). `deadlines` is a comma-separated list of deadline codes.
 */
export function labelKey(kind: ParamKind, code: string): string | null {
  switch (kind) {
    case 'alarmType':
      return null;
    case 'deadlines':
      return `deadline.${code}`;
    case 'channel':
    case 'result':
      return `param.${kind}.${code}`;
    default:
      return `${kind}.${code}`;
  }
}

/**
 * Params with every code-valued one replaced by `label(kind, code)` (the caller looks the code up
 * in its language; it returns the code itself when it has no label).
 */
export function localParams(params: Readonly<Record<string, CodeParamValue>>, label: (kind: ParamKind, code: string) => string, listSeparator = '、'): Record<string, CodeParamValue> {
  const out: Record<string, CodeParamValue> = { ...params };
  for (const [name, value] of Object.entries(params)) {
    const kind = CODE_PARAMS[name];
    if (!kind || typeof value !== 'string' || value === '') continue;
    out[name] = kind === 'deadlines' ? value.split(/,\s*/).map((c) => label(kind, c)).join(listSeparator) : label(kind, value);
  }
  return out;
}
