// Walks unacknowledged incidents up their escalation chain: every step whose delay has passed
// (on the injected clock) gets one notification row per on-duty person and contact channel, and
// the first step also reaches the address's social-end contacts. Rows are unique per (incident,
// step, person, channel), so replicas and repeated rounds add nothing twice. Once an incident is
// acknowledged (or leaves the unacknowledged states) its pending rows are cancelled: the chain stops.
// A shelved incident (ISA-18.2 § 17: annunciation suppressed) plans nothing and its pending rows are
// held (deliver.ts); on unshelving, the steps whose delay has passed meanwhile go out at once.
import { getIncident, type Incident } from '../incidents/incident.ts';
import type { Queryable } from '../store/store.ts';
import type { Chain, ChainStep, NotifyConfig, Roster } from './config.ts';
import { onDuty, quietNow } from './roster.ts';

/** Statuses in which the chain keeps walking (nobody has acknowledged yet). */
export const UNACKNOWLEDGED = ['raised', 'dispatched'] as const;

export interface PlannedRow {
  incidentId: number;
  step: number;
  personId: string;
  role: string;
  channel: string;
  recipient: string;
}

export function chainFor(config: NotifyConfig, incident: Pick<Incident, 'level' | 'alarmType'>): Chain | undefined {
  return config.chains.find((c) => c.levels.includes(incident.level) && (!c.alarmTypes || c.alarmTypes.includes(incident.alarmType)));
}

/** The roster of the unit responsible at `tier` for the incident's place (first unit with one). */
async function rosterAt(db: Queryable, config: NotifyConfig, incident: Incident, tier: ChainStep['tier']): Promise<Roster | undefined> {
  const area = incident[tier];
  if (!area) return undefined;
  const units = await db.query<{ id: string }>('SELECT id FROM units WHERE tier = $1 AND area = $2 ORDER BY id', [tier, area]);
  for (const { id } of units) {
    const roster = config.rosters.find((r) => r.unit === id);
    if (roster) return roster;
  }
  return undefined;
}

async function stepRows(db: Queryable, config: NotifyConfig, incident: Incident, step: ChainStep, index: number, now: number): Promise<PlannedRow[]> {
  const roster = await rosterAt(db, config, incident, step.tier);
  if (!roster) return [];
  const rows: PlannedRow[] = [];
  for (const duty of onDuty(roster, now, config.timeZone)) {
    if (step.role && duty.role !== step.role) continue;
    const person = config.people.find((p) => p.id === duty.personId);
    if (!person || quietNow(person, incident.level, now, config.timeZone)) continue;
    for (const contact of person.contacts) {
      if (step.channels.includes(contact.channel)) rows.push({ incidentId: incident.id, step: index, personId: person.id, role: duty.role, channel: contact.channel, recipient: contact.to });
    }
  }
  return rows;
}

/** The social end: per-address contacts (property manager, shop owner) for the enabled types. */
export function socialRows(config: NotifyConfig, incident: Incident): PlannedRow[] {
  if (!config.social.enabledTypes.includes(incident.alarmType)) return [];
  const addresses = new Set([incident.addressId, ...incident.members.map((m) => m.addressId)].filter((a): a is string => a !== null));
  return config.social.contacts
    .filter((c) => addresses.has(c.addressId) && c.alarmTypes.includes(incident.alarmType))
    .map((c) => ({ incidentId: incident.id, step: 0, personId: c.id, role: c.role, channel: c.channel, recipient: c.to }));
}

async function insertRows(db: Queryable, rows: readonly PlannedRow[], now: number): Promise<number> {
  let added = 0;
  for (const r of rows) {
    const inserted = await db.query(
      `INSERT INTO notifications (incident_id, step, person_id, role, channel, recipient, next_at) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0))
       ON CONFLICT (incident_id, step, person_id, channel) DO NOTHING RETURNING id`,
      [r.incidentId, r.step, r.personId, r.role, r.channel, r.recipient, now],
    );
    added += inserted.length;
  }
  return added;
}

/** Stops the chains of incidents someone acknowledged (or that ended): pending rows are cancelled. */
export async function cancelStopped(db: Queryable): Promise<number> {
  const rows = await db.query(
    `UPDATE notifications n SET status = 'cancelled', last_error = 'chain stopped: incident ' || i.status
     FROM incidents i WHERE n.incident_id = i.id AND n.status = 'pending' AND NOT (i.open AND i.status = ANY($1::text[])) RETURNING n.id`,
    [`{${UNACKNOWLEDGED.join(',')}}`],
  );
  return rows.length;
}

/** One planning pass at `now`; returns how many notifications were added. */
export async function planNotifications(db: Queryable, config: NotifyConfig, now: number, horizonMs: number): Promise<number> {
  const ids = await db.query<{ id: string | number }>(
    `SELECT id FROM incidents WHERE open AND dispatchable AND shelved_until IS NULL AND status = ANY($1::text[]) AND raised_at > to_timestamp($2 / 1000.0) ORDER BY id`,
    [`{${UNACKNOWLEDGED.join(',')}}`, now - horizonMs],
  );
  let added = 0;
  for (const { id } of ids) {
    const incident = await getIncident(db, Number(id));
    const chain = incident ? chainFor(config, incident) : undefined;
    if (!incident || !chain) continue;
    const elapsedMs = now - incident.raisedAt;
    const rows: PlannedRow[] = socialRows(config, incident);
    for (const [index, step] of chain.steps.entries()) {
      // afterS 0 fires at once even when the database clock runs ahead of ours.
      if (step.afterS === 0 || step.afterS * 1000 <= elapsedMs) rows.push(...(await stepRows(db, config, incident, step, index, now)));
    }
    added += await insertRows(db, rows, now);
  }
  return added;
}
