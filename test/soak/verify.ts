// Compares what the devices did (the ledger) with what PostgreSQL holds.
//
// Per source (gateway, device, alarm type), with each stored event mapped to the device change it
// came from by the tag in its readings:
// - lost: a change with no stored event of the same action.
// - duplicated: a change stored by more than one event (each extra one counts), or an event that
//   names no change the device made.
// - out_of_order, one count per violation of:
//   1. edge order: the source's events in edge sequence order name strictly increasing changes;
//   2. apply order: the source's incidents, in creation order, are opened by strictly increasing
//      raises, and the incident opened by raise k is the one the device's next clear (k+1) closed
//      when that clear is stored: a raise applied after its own clear, or a later raise folded
//      into a stale incident, breaks it;
//   3. final state: the source has an open, uncleared incident exactly when the device's last
//      change is a raise.
import type pg from 'pg';
import { ALARM_TYPE, type SoakDevice } from './detectors.ts';
import { sourceKey, type Change, type Ledger } from './ledger.ts';

export interface EventRow {
  event_id: string;
  gateway_id: string;
  device_id: string;
  seq: string;
  action: 'raise' | 'clear';
  readings: Record<string, unknown> | null;
  cloud_ms: number;
  incident_id: string | null;
}

export interface IncidentRow {
  id: string;
  gateway_id: string;
  device_id: string;
  first_event_id: string;
  occurrences: number;
  cleared: boolean;
  open: boolean;
}

export interface Verdict {
  inPostgres: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Device acknowledgement → stored in PostgreSQL, per change found, ms. */
  latenciesMs: number[];
  problems: string[];
}

export interface SourceData {
  changes: readonly Change[];
  device: SoakDevice;
  events: Array<EventRow & { tag: number | null }>;
  incidents: IncidentRow[];
}

/** The stored rows of every source, for the run folder. */
export function dumpSources(sources: Map<string, SourceData>): string {
  const lines: string[] = [];
  for (const [key, s] of sources) {
    lines.push(JSON.stringify({ source: key, changes: s.changes }));
    for (const e of s.events) lines.push(JSON.stringify({ source: key, event: e }));
    for (const i of s.incidents) lines.push(JSON.stringify({ source: key, incident: i }));
  }
  return `${lines.join('\n')}\n`;
}

export async function loadSources(client: pg.Client, devices: readonly SoakDevice[], ledger: Ledger): Promise<Map<string, SourceData>> {
  const gateways = [...new Set(devices.map((d) => d.gatewayId))];
  const events = await client.query<EventRow>(
    `SELECT event_id, gateway_id, device_id, seq::text AS seq, action, readings, (extract(epoch FROM cloud_time) * 1000)::float8 AS cloud_ms, incident_id::text AS incident_id
     FROM events WHERE gateway_id = ANY($1) AND alarm_type = $2`,
    [gateways, ALARM_TYPE],
  );
  const incidents = await client.query<IncidentRow>(
    `SELECT id::text AS id, gateway_id, device_id, first_event_id, occurrences, cleared_at IS NOT NULL AS cleared, open
     FROM incidents WHERE gateway_id = ANY($1) AND alarm_type = $2 ORDER BY incidents.id`,
    [gateways, ALARM_TYPE],
  );
  const sources = new Map<string, SourceData>();
  for (const device of devices) {
    const key = sourceKey(device.gatewayId, device.deviceId, ALARM_TYPE);
    sources.set(key, { changes: ledger.changes(key), device, events: [], incidents: [] });
  }
  for (const e of events.rows) {
    const s = sources.get(sourceKey(e.gateway_id, e.device_id, ALARM_TYPE));
    s?.events.push({ ...e, tag: s.device.tagOf(e.readings) });
  }
  for (const i of incidents.rows) sources.get(sourceKey(i.gateway_id, i.device_id, ALARM_TYPE))?.incidents.push(i);
  for (const s of sources.values()) s.events.sort((a, b) => Number(a.seq) - Number(b.seq));
  return sources;
}

/** The change an event stands for: same tag and same action, else undefined. */
function changeOf(s: SourceData, e: { tag: number | null; action: string }): Change | undefined {
  const c = e.tag === null ? undefined : s.changes[e.tag - 1];
  return c && c.action === e.action ? c : undefined;
}

function countDelivery(key: string, s: SourceData, v: Verdict): void {
  const seen = new Map<number, number>();
  for (const e of s.events) {
    const c = changeOf(s, e);
    if (!c) {
      v.duplicated += 1;
      v.problems.push(`${key}: event ${e.event_id} (${e.action}, tag ${e.tag}) names no change the device made`);
      continue;
    }
    seen.set(c.ordinal, (seen.get(c.ordinal) ?? 0) + 1);
    if (seen.get(c.ordinal) === 1) v.latenciesMs.push(e.cloud_ms - (c.ackedAt ?? c.madeAt));
  }
  for (const c of s.changes) {
    const n = seen.get(c.ordinal) ?? 0;
    if (n === 0) {
      v.lost += 1;
      v.problems.push(`${key}: ${c.action} #${c.tag} (${c.ackedAt === null ? 'never acknowledged to the device' : 'acknowledged to the device'}) is not in PostgreSQL`);
    } else if (n > 1) {
      v.duplicated += n - 1;
      v.problems.push(`${key}: ${c.action} #${c.tag} stored ${n} times`);
    }
  }
}

function countOrder(key: string, s: SourceData, v: Verdict): void {
  const violation = (what: string) => {
    v.outOfOrder += 1;
    v.problems.push(`${key}: ${what}`);
  };
  let last = -1;
  for (const e of s.events) {
    const c = changeOf(s, e);
    if (!c) continue;
    if (c.ordinal <= last) violation(`edge order: seq ${e.seq} carries change #${c.tag} after change #${last + 1}`);
    last = Math.max(last, c.ordinal);
  }
  const byId = new Map(s.events.map((e) => [e.event_id, e]));
  let lastOpening = -1;
  for (const incident of s.incidents) {
    const opening = byId.get(incident.first_event_id);
    const raise = opening ? changeOf(s, opening) : undefined;
    if (!raise || raise.action !== 'raise') {
      violation(`incident ${incident.id} opened by ${incident.first_event_id}, not by a raise of the device`);
      continue;
    }
    if (raise.ordinal <= lastOpening) violation(`incident ${incident.id} opened by raise #${raise.tag} after an incident opened by #${lastOpening + 1}`);
    lastOpening = Math.max(lastOpening, raise.ordinal);
    const clear = s.events.find((e) => changeOf(s, e)?.ordinal === raise.ordinal + 1);
    if (clear && clear.incident_id !== incident.id) {
      const folded = s.events.filter((e) => e.incident_id === incident.id && e.action === 'raise' && e.event_id !== opening!.event_id).map((e) => `#${e.tag}`);
      violation(
        `incident ${incident.id} (raise #${raise.tag}) was not closed by its clear #${clear.tag} (that clear applied to ${clear.incident_id ?? 'no incident'}; incident ${incident.cleared ? 'cleared later' : 'still active'}${folded.length > 0 ? `, raises ${folded.join(', ')} folded into it` : ''})`,
      );
    }
  }
  const lastChange = s.changes.at(-1);
  const deviceActive = lastChange?.action === 'raise';
  const cloudActive = s.incidents.some((i) => i.open && !i.cleared);
  if (deviceActive !== cloudActive) violation(`final state: device ${deviceActive ? 'in alarm' : 'normal'} (last change #${lastChange?.tag ?? 0}), cloud ${cloudActive ? 'has an active incident' : 'has none'}`);
}

export function verify(sources: Map<string, SourceData>): Verdict {
  const v: Verdict = { inPostgres: 0, lost: 0, duplicated: 0, outOfOrder: 0, latenciesMs: [], problems: [] };
  for (const [key, s] of sources) {
    v.inPostgres += s.events.length;
    countDelivery(key, s, v);
    countOrder(key, s, v);
  }
  return v;
}

/** Changes the devices made that have no event in PostgreSQL yet (the drain waits for 0). */
export function unstored(sources: Map<string, SourceData>): number {
  let missing = 0;
  for (const s of sources.values()) {
    const stored = new Set(s.events.map((e) => changeOf(s, e)?.ordinal));
    missing += s.changes.filter((c) => !stored.has(c.ordinal)).length;
  }
  return missing;
}
