// InfluxDB line protocol for readings (the same text for the v1 and v2 write APIs):
// `reading,device=…,gateway=…,point=… value=<float> <ms>` for numbers and booleans,
// `… text="…" <ms>` for strings. Numbers and strings use different field names so one measurement
// never mixes field types (InfluxDB rejects a field whose type differs from the shard's:
// "field type conflict", HTTP 400).
import type { Reading } from '@gridwatch/protocol';

export const MEASUREMENT = 'reading';

const TAG_SPECIAL = /[,= \\]/;

/** Tag keys/values escape comma, equals, space and backslash (most ids have none: tested first, cheaper than replace). */
function tag(value: string): string {
  return TAG_SPECIAL.test(value) ? value.replace(/[,= \\]/g, (c) => `\\${c}`) : value;
}

/** String field values are double-quoted; quote and backslash are escaped. */
function stringField(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function field(value: Reading['value']): string | null {
  if (typeof value === 'string') return `text=${stringField(value)}`;
  if (typeof value === 'boolean') return `value=${value ? 1 : 0}`;
  // NaN/Infinity have no line-protocol form; the caller counts the reading as dropped.
  return Number.isFinite(value) ? `value=${value}` : null;
}

/** One line per reading, or null when the value cannot be written (a non-finite number). */
export function toLine(gatewayId: string, r: Reading): string | null {
  const f = field(r.value);
  if (f === null) return null;
  return `${MEASUREMENT},device=${tag(r.deviceId)},gateway=${tag(gatewayId)},point=${tag(r.point)} ${f} ${r.t}`;
}

/**
 * The lines of one gateway's batch (null for a reading that cannot be written), with the escaped
 * series key per device/point computed once: a batch repeats few of them (5,000 readings of 100
 * devices), and building the key was most of toLine's time.
 */
export function toLines(gatewayId: string, readings: readonly Reading[]): (string | null)[] {
  const gateway = tag(gatewayId);
  const keys = new Map<string, string>();
  return readings.map((r) => {
    const f = field(r.value);
    if (f === null) return null;
    const id = `${r.deviceId}\u0000${r.point}`;
    let key = keys.get(id);
    if (key === undefined) {
      key = `${MEASUREMENT},device=${tag(r.deviceId)},gateway=${gateway},point=${tag(r.point)}`;
      keys.set(id, key);
    }
    return `${key} ${f} ${r.t}`;
  });
}
