// ISA-18.2 alarm flood (§ 16.5; "more than 10 alarms per 10 minutes"): once a community's board
// items within the policy's window reach its flood count, the alarm that crosses it opens one
// grouped notice; the items already raised in the window fold into it retroactively (they leave the
// board, their pending deadlines are cancelled, they are listed under the notice), and later alarms
// fold as they come. The notice closes once no member has alarmed for the quiet time. Windows are
// measured on edge times, so a replayed day folds exactly as it did live. Floods are counted per
// lane: a burst of faults (maintenance_flood) never folds a fire alarm, and the reverse.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import type { Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { audit, getIncident, INCIDENT_COLUMNS, toIncident, type Incident, type IncidentRow } from './incident.ts';
import { autoClear, routeAndDispatch } from './lifecycle.ts';
import type { EngineOptions, Outcome } from './outcome.ts';
import { laneOf, typesOfLane, type AlarmLane } from './hazards.ts';
import { rulesFor, type AlarmPolicy, type AlarmRules } from './policy.ts';
import { noteOf, noteOfReason, reasonOf } from './reasons.ts';

const NOTICE_TYPE: Record<AlarmLane, string> = { emergency: 'alarm_flood', maintenance: 'maintenance_flood' };

/** SQL condition: alarm_type is of `lane` (the maintenance types are listed in parameter `$n`). */
function laneCondition(lane: AlarmLane, n: number): string {
  return `${lane === 'maintenance' ? '' : 'NOT '}alarm_type = ANY($${n}::text[])`;
}
const maintenanceTypes = (): string => `{${typesOfLane('maintenance').join(',')}}`;

/** Whether the community is in flood: its notice is open, or its board items within the window reached the count. */
export async function inFlood(tx: Queryable, address: Address, event: AlarmEvent, rules: AlarmRules): Promise<boolean> {
  const lane = laneOf(event.alarmType);
  const rows = await tx.query<{ n: number; notice: boolean }>(
    `SELECT count(*)::int AS n, EXISTS (SELECT 1 FROM incidents WHERE kind = 'flood' AND open AND community = $1 AND ${laneCondition(lane, 4)}) AS notice
     FROM incidents WHERE community = $1 AND kind IN ('device', 'correlated') AND group_id IS NULL AND ${laneCondition(lane, 4)}
       AND raised_edge_time > to_timestamp($3::double precision / 1000) - make_interval(secs => $2::double precision)`,
    [address.community, rules.flood.windowS, event.edgeTime, maintenanceTypes()],
  );
  return rows[0]?.notice === true || (rows[0]?.n ?? 0) >= rules.flood.count;
}

export interface FloodInput {
  gateway: GatewayRecord;
  event: AlarmEvent;
  address: Address;
  rules: AlarmRules;
}

/** The open grouped notice of a community in flood, created (and dispatched once) on first need. */
export async function floodNotice(tx: Queryable, input: FloodInput, options: EngineOptions, outcome: Outcome): Promise<number> {
  const { gateway, event, address, rules } = input;
  const lane = laneOf(event.alarmType);
  const existing = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE kind = 'flood' AND open AND community = $1 AND ${laneCondition(lane, 2)} FOR UPDATE`, [
    address.community,
    maintenanceTypes(),
  ]);
  if (existing[0]) {
    const rows = await tx.query<IncidentRow>(
      `UPDATE incidents SET occurrences = occurrences + 1, level = LEAST(level, $2), updated_at = now() WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
      [Number(existing[0].id), event.level],
    );
    return outcome.touch(toIncident(rows[0] as IncidentRow)).id;
  }
  const reason = reasonOf('flood', { count: rules.flood.count, minutes: Math.round(rules.flood.windowS / 60), community: address.community ?? '' });
  const rows = await tx.query<IncidentRow>(
    `INSERT INTO incidents (kind, gateway_id, site, device_id, alarm_type, hazard, level, status, reason, address_id, first_event_id,
       raised_edge_time, building, grid, community, street, district, reason_code, reason_params)
     VALUES ('flood', $1, $2, $3, $11, $12, $4, 'raised', $5, NULL, $6, to_timestamp($7::double precision / 1000), NULL, NULL, $8, $9, $10, $13, $14::text::jsonb)
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      gateway.gatewayId,
      gateway.site,
      `community:${address.community}`,
      event.level,
      reason.reason,
      event.id,
      event.edgeTime,
      address.community,
      address.street,
      address.district,
      NOTICE_TYPE[lane],
      lane === 'maintenance' ? 'maintenance' : 'system',
      reason.reasonCode,
      JSON.stringify(reason.reasonParams),
    ],
  );
  const notice = toIncident(rows[0] as IncidentRow);
  await audit(tx, notice.id, { actor: 'system', source: 'flood', action: 'raise', to: 'raised', ...noteOfReason(reason) });
  await foldRecent(tx, notice, event, rules, outcome);
  // A flood is the community's matter: route from the community tier, not a single grid.
  return (await routeAndDispatch(tx, notice, options, outcome)).id;
}

/** The community's board items raised within the window leave the board and are listed under the notice. */
async function foldRecent(tx: Queryable, notice: Incident, event: AlarmEvent, rules: AlarmRules, outcome: Outcome): Promise<void> {
  const folded = await tx.query<{ id: string }>(
    `UPDATE incidents SET group_id = $1, dispatchable = false, updated_at = now()
     WHERE community = $2 AND kind IN ('device', 'correlated') AND group_id IS NULL AND id <> $1 AND ${laneCondition(laneOf(event.alarmType), 5)}
       AND raised_edge_time > to_timestamp($4::double precision / 1000) - make_interval(secs => $3::double precision)
     RETURNING id`,
    [notice.id, notice.community, rules.flood.windowS, event.edgeTime, maintenanceTypes()],
  );
  if (folded.length === 0) return;
  const ids = `{${folded.map((f) => f.id).join(',')}}`;
  // Folded members stop escalating on their own: the notice's unit now answers for the burst.
  await tx.query('UPDATE deadlines SET cancelled_at = now() WHERE incident_id = ANY($1::bigint[]) AND fired_at IS NULL AND cancelled_at IS NULL', [ids]);
  for (const { id } of folded) {
    await audit(tx, Number(id), { actor: 'system', source: 'flood', action: 'fold', ...noteOf('flood_fold_retro', { notice: notice.id }) });
    outcome.touch((await getIncident(tx, Number(id))) as Incident);
  }
}

/**
 * Closes the open flood notices whose members have not alarmed for the quiet time before `nowMs`
 * (the rehearsal clock in a replay, the wall clock in the job). Returns the closed notices.
 */
export async function closeQuietFloods(tx: Queryable, nowMs: number, policy: AlarmPolicy, outcome: Outcome): Promise<Incident[]> {
  const rows = await tx.query<{ id: string; alarm_type: string; community: string | null; district: string | null; last_edge: Date | string }>(
    `SELECT n.id, n.alarm_type, n.community, n.district, GREATEST(n.raised_edge_time,
       (SELECT max(e.edge_time) FROM events e JOIN incidents m ON m.id = e.incident_id WHERE m.group_id = n.id AND e.action = 'raise')) AS last_edge
     FROM incidents n WHERE n.kind = 'flood' AND n.open ORDER BY n.id FOR UPDATE SKIP LOCKED`,
  );
  const closed: Incident[] = [];
  for (const row of rows) {
    const quietS = rulesFor(policy, row.alarm_type, { community: row.community, district: row.district }).flood.quietS;
    const lastMs = new Date(row.last_edge).getTime();
    if (nowMs - lastMs < quietS * 1000) continue;
    const notice = (await getIncident(tx, Number(row.id), true)) as Incident;
    await audit(tx, notice.id, { actor: 'system', source: 'flood', action: 'flood_end', from: notice.status, to: notice.status, ...noteOf('flood_quiet', { quietS }) });
    closed.push(await autoClear(tx, notice, 'system', outcome));
  }
  return closed;
}
