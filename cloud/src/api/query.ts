// Query-string validation for the REST API. A bad parameter answers 400 naming the field, so a
// client author sees what to fix without reading the server log.
import { INCIDENT_STATUSES, type IncidentQuery, type IncidentStatus } from '../incidents/incident.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function single(query: Record<string, unknown>, name: string): Parsed<string | undefined> {
  const value = query[name];
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string') return { ok: false, error: `${name}: expected a single value` };
  return { ok: true, value };
}

export function parseIncidentQuery(query: Record<string, unknown>): Parsed<IncidentQuery> {
  const limitText = single(query, 'limit');
  if (!limitText.ok) return limitText;
  let limit = DEFAULT_LIMIT;
  if (limitText.value !== undefined) {
    limit = /^\d{1,4}$/.test(limitText.value) ? Number(limitText.value) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) return { ok: false, error: `limit: expected integer 1..${MAX_LIMIT}` };
  }
  const status = single(query, 'status');
  if (!status.ok) return status;
  if (status.value !== undefined && !(INCIDENT_STATUSES as readonly string[]).includes(status.value)) {
    return { ok: false, error: `status: expected one of ${INCIDENT_STATUSES.join(', ')}` };
  }
  const unitId = single(query, 'unitId');
  if (!unitId.ok) return unitId;
  if (unitId.value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(unitId.value)) return { ok: false, error: 'unitId: expected a unit id' };
  return {
    ok: true,
    value: { limit, ...(status.value ? { status: status.value as IncidentStatus } : {}), ...(unitId.value ? { unitId: unitId.value } : {}) },
  };
}

export function parseId(text: string): Parsed<number> {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) return { ok: false, error: 'id: expected a positive integer' };
  return { ok: true, value: Number(text) };
}
