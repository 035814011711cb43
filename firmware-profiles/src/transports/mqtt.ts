// MQTT devices publishing one JSON object per report: a point is a dotted path into the object.
import { Type, type Static } from '@sinclair/typebox';
import { pointCommon, profileSchema } from '../schema.ts';
import { defineProfileTransport, type RawPointValue } from './types.ts';

/** Reports larger than this are refused before parsing; a detector report is a few hundred bytes. */
export const MAX_REPORT_BYTES = 64 * 1024;

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

export const MqttProfile = profileSchema('mqtt', MqttPoint, {
  payload: Type.Object(
    { format: Type.Literal('json', { description: 'The device publishes one JSON object per report' }) },
    { additionalProperties: false },
  ),
});
export type MqttProfile = Static<typeof MqttProfile>;


function lookup(payload: Record<string, unknown>, path: string): unknown {
  // Most paths are one key: no split array per point and report (issue 12).
  if (!path.includes('.')) return Object.hasOwn(payload, path) ? payload[path] : undefined;
  let node: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

export const mqttProfileTransport = defineProfileTransport({
  id: 'mqtt',
  schema: MqttProfile,
  extract(profile, input) {
    if (!('payload' in input)) return { ok: false, reason: 'an MQTT profile decodes a JSON report, not registers' };
    const { payload } = input;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    if (size > MAX_REPORT_BYTES) return { ok: false, reason: `report of ${size} bytes exceeds ${MAX_REPORT_BYTES}` };
    let parsed: unknown;
    try {
      // A Buffer is read in place; another Uint8Array is viewed, not copied.
      const text = typeof payload === 'string' ? payload : (Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)).toString('utf8');
      parsed = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: `report is not JSON (${(err as Error).message})` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: `report is not a JSON object (got ${kindOf(parsed)})` };
    const values: RawPointValue<MqttPoint>[] = [];
    for (const point of profile.points) {
      const raw = lookup(parsed as Record<string, unknown>, point.path);
      // A null or absent field yields no reading: devices report any subset.
      if (raw !== undefined && raw !== null) values.push({ point, raw, field: point.path });
    }
    return { ok: true, values };
  },
});
