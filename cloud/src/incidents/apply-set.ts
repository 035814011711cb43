// Set-based apply of a whole ingest group (issue 12, alarm storm). The per-event path (apply.ts
// applyEvent) costs ~11 statements per new raise; a storm is mostly plain new raises of distinct
// devices, whose outcome is certain from a few bulk reads. So a group runs as:
//   1. one probe of every event (id held? its source's last seq, its device's placement);
//   2. classify in group order: an event is a candidate only when it is a new, in-order raise that
//      no earlier event of the group shares a source, device, event id, building or community
//      with (so nothing earlier in the group can change what it reads), placement accepted, and
//      its rules neither verify nor call every raise chattering; a refused placement is rejected
//      by id on the spot, as the isolated path would;
//   3. one statement for the candidates' advisory locks (apply.ts's keys), then one read of
//      everything that would make the raise do more than open a plain incident (open sources of
//      the device, recent events or cleared incidents of the source, a correlation target, a
//      flood) plus the routing rules and units — a blocked candidate goes the per-event way;
//   4. the fast events' incidents, already routed, with events, sources, audit and deadlines in one
//      statement, their dispatch messages in one more;
//   5. every other event through applyEvent, in group order, after the fast set.
// Order: a fast event shares no key with any earlier event, so it depends on none of them; a later
// event that shares a key with it is never fast and runs after it, as in group order. Incident ids
// may therefore be allocated in another order than one event at a time (they are not a decision).
import type { AlarmEvent } from '@gridwatch/protocol';
import type { GatewayRecord } from '../gateways/registry.ts';
import { placementTestHooks, resolvePlacement, type PlacementPolicy } from '../gateways/placement.ts';
import type { Address, Jurisdiction } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { applyEvent, applyEvents, recordAnswer, type Answer, type ApplyMode, type ApplyResult } from './apply.ts';
import { routeInMemory, unitAreas } from './apply-set-route.ts';
import { enqueueMany, lockKeys, probeGroup, readDecisions, writeFast, type DecisionInput, type Decisions, type FastRow, type Probe } from './apply-set-sql.ts';
import { correlatesAcrossDevices, hazardOf, laneOf, typesOfLane } from './hazards.ts';
import { toIncident, type Incident } from './incident.ts';
import { deadlineSeconds } from './lifecycle.ts';
import { Outcome, type EngineOptions } from './outcome.ts';
import type { AlarmRules } from './policy.ts';
import { eventRules, laneOptions } from './raise.ts';
import { deviceReason, noteOf, noteOfReason } from './reasons.ts';
import { memberOf } from './sources.ts';
import type { RejectReason } from '../metrics.ts';

/** The switch: off, every group is applied one event at a time (the tests show what it changes). */
export const SET_APPLY = { enabled: true };

/** Events seen by the set path and how many of them took the fast path (tests, benchmarks). */
export const SET_APPLY_STATS = { events: 0, fast: 0 };

/** Statements a group of plain new raises costs on the fast path (probe, locks, read, write, dispatch). */
export const FAST_PATH_STATEMENTS = 5;

interface Item {
  ord: number;
  batch: number;
  event: AlarmEvent;
}

type Placement = { ok: true; address: Address | null; place: string | null } | { ok: false; reason: string; label: RejectReason };

interface Candidate {
  item: Item;
  address: Address | null;
  place: string | null;
  rules: AlarmRules;
  engine: EngineOptions;
  hazard: string;
}

/** Gateways whose trusted-edge placement warning (placement.ts, once per process) has had its chance. */
const trustSeen = new Set<string>();

/**
 * Applies the events of one gateway's group (one array per message), inside the caller's
 * transaction, with the same results and outcomes as applyEvents per message without savepoints.
 * Isolated mode, or the switch off, is exactly applyEvents per message.
 */
export async function applyGroup(
  tx: Queryable,
  gateway: GatewayRecord,
  batches: readonly (readonly AlarmEvent[])[],
  options: EngineOptions,
  outcomes: readonly Outcome[],
  mode: ApplyMode,
): Promise<ApplyResult[]> {
  if (mode.isolate || !SET_APPLY.enabled) {
    const results: ApplyResult[] = [];
    for (const [i, events] of batches.entries()) results.push(await applyEvents(tx, gateway, events, options, outcomes[i], mode));
    return results;
  }
  const items = batches.flatMap((events, batch) => events.map((event) => ({ batch, event })));
  const ordered: Item[] = items.map((it, ord) => ({ ...it, ord }));
  const answers = new Map<number, { answer: Answer; local: Outcome }>();
  const plan = await planGroup(tx, gateway, ordered, options);
  SET_APPLY_STATS.events += ordered.length;
  SET_APPLY_STATS.fast += plan.fast.length;
  for (const [ord, refusal] of plan.rejected) answers.set(ord, { answer: refusal, local: new Outcome() });
  if (plan.fast.length > 0) await applyFast(tx, gateway, plan, options, answers);
  for (const item of ordered) {
    if (answers.has(item.ord)) continue;
    const local = new Outcome();
    answers.set(item.ord, { answer: await applyEvent(tx, gateway, item.event, options, local), local });
  }
  const results = batches.map((_events, batch) => assemble(ordered.filter((it) => it.batch === batch), answers, outcomes[batch]!));
  if (mode.markSeen && results.some((r) => r.inserted.length > 0)) {
    await tx.query('UPDATE gateways SET last_seen_at = COALESCE(to_timestamp($2::double precision / 1000), now()) WHERE id = $1', [gateway.gatewayId, options.clock ? options.clock() : null]);
  }
  return results;
}

/** applyEvents' bookkeeping, in the batch's own order. */
function assemble(items: readonly Item[], answers: Map<number, { answer: Answer; local: Outcome }>, outcome: Outcome): ApplyResult {
  const result: ApplyResult = { inserted: [], duplicates: [], stale: [], rejected: [], incidents: [] };
  const changed = new Map<number, Incident>();
  for (const { ord, event } of items) recordAnswer(result, changed, event.id, answers.get(ord)!, outcome);
  result.incidents = [...changed.values()];
  return result;
}

/** placement.ts resolvePlacement, decided from the probe (same refusals, same messages). */
function placementOf(gateway: GatewayRecord, event: AlarmEvent, probe: Probe, communities: readonly string[], policy: PlacementPolicy | undefined): Placement {
  const bypass = placementTestHooks.bypass;
  const allowed = bypass ? [] : communities;
  if (allowed.length === 0 && (policy?.require ?? false) && !bypass) {
    return {
      ok: false,
      label: 'unplaced_gateway',
      reason: `gatewayId: ${gateway.gatewayId} has no allowed community and placement is required; place it (POST /api/v1/gateways/${gateway.gatewayId}/placement, \`gridwatch-cloud gateway place\`, or an enrollment token with communities)`,
    };
  }
  const claimed = event.addressId ?? null;
  if (allowed.length === 0) {
    const place = claimed && claimed !== probe.recorded ? claimed : null;
    return { ok: true, address: claimed ? probe.claimedAddress : probe.recorded ? probe.recordedAddress : null, place };
  }
  if (probe.recorded) {
    if (claimed && claimed !== probe.recorded) {
      return { ok: false, label: 'foreign_address', reason: `addressId: ${claimed} is not the address on record for device ${event.deviceId} (${probe.recorded})` };
    }
    return { ok: true, address: probe.recordedAddress, place: null };
  }
  if (!claimed) return { ok: false, label: 'unplaced_device', reason: `deviceId: ${event.deviceId} has no address on record and the event names none` };
  const address = probe.claimedAddress;
  if (!address || !allowed.includes(address.community)) {
    return { ok: false, label: 'foreign_address', reason: `addressId: ${claimed} lies outside the communities gateway ${gateway.gatewayId} may serve` };
  }
  return { ok: true, address, place: claimed };
}

/** What an event may share with another of the group: its id, source, device, and its address's building and community. */
function keysOf(event: AlarmEvent, placement: Placement): string[] {
  const keys = [`i:${event.id}`, `s:${event.deviceId}\u0000${event.alarmType}`, `d:${event.deviceId}`];
  if (placement.ok && placement.address) keys.push(`b:${placement.address.building}`, `c:${placement.address.community}`);
  return keys;
}

/** A raise the fast path may take, if the store holds nothing that changes its course (readDecisions). */
function candidateOf(item: Item, placement: Placement & { ok: true }, options: EngineOptions): Candidate | null {
  const { event } = item;
  if (event.action !== 'raise' || event.chattering === true) return null;
  const engine = laneOptions(options, event.alarmType);
  const rules = eventRules(engine, event.alarmType, placement.address);
  // Verification (pre-alarms, confirmation by repeat) and "every raise chatters" stay per event.
  if (rules.verification.enabled || rules.chatter.count <= 1) return null;
  return { item, address: placement.address, place: placement.place, rules, engine, hazard: hazardOf(event.alarmType) };
}

interface Plan {
  fast: Candidate[];
  rejected: Map<number, { rejected: string; label: RejectReason }>;
  /** The routing rules and units the fast events need (readDecisions). */
  routing: Pick<Decisions, 'rules' | 'units'>;
  /** Each dispatch consumer's units (readDecisions). */
  consumers: string[][];
}

/** Steps 1–3 of the file's head: probe, classify, lock, read; returns the fast events and the refusals. */
async function planGroup(tx: Queryable, gateway: GatewayRecord, items: readonly Item[], options: EngineOptions): Promise<Plan> {
  const none: Plan = { fast: [], rejected: new Map(), routing: { rules: [], units: [] }, consumers: [] };
  const inputs = items.map(({ ord, event }) => ({ ord, event_id: event.id, device_id: event.deviceId, alarm_type: event.alarmType, claimed: event.addressId ?? null }));
  const { probes, communities } = await probeGroup(tx, gateway.gatewayId, inputs);
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const item of items) {
    const { event } = item;
    const probe = probes.get(item.ord)!;
    const placement = placementOf(gateway, event, probe, communities, options.placement);
    const keys = keysOf(event, placement);
    const free = keys.every((k) => !seen.has(k));
    for (const k of keys) seen.add(k);
    const advancing = probe.lastSeq === null || probe.lastSeq < event.seq;
    if (!free || probe.known || event.test === true || !advancing) continue;
    if (!placement.ok) {
      none.rejected.set(item.ord, { rejected: placement.reason, label: placement.label });
      continue;
    }
    const candidate = candidateOf(item, placement, options);
    if (candidate) candidates.push(candidate);
  }
  if (candidates.length === 0) return none;
  const first = candidates[0]!.item.event;
  if ((communities.length === 0 || placementTestHooks.bypass) && !trustSeen.has(gateway.gatewayId)) {
    // placement.ts warns once per process about a trusted edge: let it see this gateway's first
    // raise (its only write, the device's claimed address, is the one the fast write makes too).
    trustSeen.add(gateway.gatewayId);
    await resolvePlacement(tx, gateway, first, options.placement);
  }
  await lockKeys(tx, [...new Set(candidates.map((c) => lockKeyOf(gateway, c)))].sort());
  const decisions = await readDecisions(tx, gateway.gatewayId, candidates.map(decisionInput), {
    maintenanceTypes: typesOfLane('maintenance'),
    alarmTypes: [...new Set(candidates.map((c) => c.item.event.alarmType))],
    areas: unitAreas(candidates.map((c) => jurisdictionOfAddress(c.address))),
  });
  const fast = candidates.filter((c) => !decisions.blocked.has(c.item.ord));
  return { fast, rejected: none.rejected, routing: decisions, consumers: decisions.consumers };
}

/** apply.ts's lock: the community when the event has an address, else its source device. */
function lockKeyOf(gateway: GatewayRecord, c: Candidate): string {
  return c.address ? `community:${c.address.community}` : `source:${gateway.gatewayId}/${c.item.event.deviceId}`;
}

function jurisdictionOfAddress(address: Address | null): Jurisdiction {
  return { grid: address?.grid ?? null, community: address?.community ?? null, street: address?.street ?? null, district: address?.district ?? null };
}

function decisionInput(c: Candidate): DecisionInput {
  const { event } = c.item;
  const { chatter, flood } = c.rules;
  return {
    ord: c.item.ord,
    device_id: event.deviceId,
    alarm_type: event.alarmType,
    hazard: c.hazard,
    edge: event.edgeTime,
    // episodesInWindow looks back 2 × window, recentlyCleared max(window, release).
    lookback: Math.max(2 * chatter.windowS, chatter.releaseS),
    building: c.address?.building ?? null,
    community: c.address?.community ?? null,
    maint: laneOf(event.alarmType) === 'maintenance',
    correlate: c.address !== null && correlatesAcrossDevices(event.alarmType),
    corr_window: c.rules.correlationWindowS,
    fold: c.address !== null && flood.fold,
    flood_window: flood.windowS,
    flood_count: flood.count,
  };
}

/** One fast event's row: openIncident's incident (dispatchable, not chattering, no group) routed as routeAndDispatch would. */
function fastRow(gateway: GatewayRecord, c: Candidate, data: Plan['routing']): FastRow {
  const { event } = c.item;
  const member = memberOf(gateway, event, c.address);
  const reason = deviceReason(event);
  const raised = noteOfReason(reason);
  const where = jurisdictionOfAddress(c.address);
  const target = routeInMemory(data.rules, data.units, where, event.alarmType, event.level);
  const unit = target.unit;
  const routed = unit ? noteOf('routed', { unitId: unit.id, unitName: unit.name, unitType: unit.type, tier: target.tier, area: unit.area }) : null;
  return {
    ord: c.item.ord,
    event_id: event.id,
    seq: event.seq,
    device_id: event.deviceId,
    profile_id: event.profileId,
    alarm_type: event.alarmType,
    level: event.level,
    reason: event.reason,
    edge: event.edgeTime,
    claimed: event.addressId ?? null,
    readings: event.readings ?? null,
    hazard: c.hazard,
    inc_address_id: member.addressId,
    members: [member],
    ...where,
    building: c.address?.building ?? null,
    reason_code: reason.reasonCode,
    reason_params: reason.reasonParams,
    note: raised.note,
    note_code: raised.noteCode,
    note_params: raised.noteParams,
    status: unit ? 'dispatched' : 'raised',
    tier: unit ? target.tier : null,
    unit_id: unit?.id ?? null,
    route_note: routed?.note ?? null,
    route_note_code: routed?.noteCode ?? null,
    route_note_params: routed?.noteParams ?? null,
    ack_s: unit ? deadlineSeconds(c.engine, event.level, 'ack') : null,
    place: c.place,
  };
}

/** Step 4: the fast events' writes; their answers and outcomes as routeAndDispatch leaves them. */
async function applyFast(tx: Queryable, gateway: GatewayRecord, plan: Plan, options: EngineOptions, answers: Map<number, { answer: Answer; local: Outcome }>): Promise<void> {
  const rows = plan.fast.map((c) => fastRow(gateway, c, plan.routing));
  const written = await writeFast(tx, gateway, rows, options.clock ? options.clock() : null);
  if (written.inserted !== rows.length || written.advanced !== rows.length || written.incidents.length !== rows.length) {
    // Another writer stored one of these events or advanced its source since the probe: not an
    // error of the events; the caller's redo (isolated, per event) decides them one by one.
    throw new Error(`set apply: ${rows.length - Math.min(written.inserted, written.advanced)} of ${rows.length} events changed under the group; redo per event`);
  }
  const byEvent = new Map(written.incidents.map((r) => [r.first_event_id, toIncident(r)]));
  // enqueueDispatch's consumer rule, decided on the consumers read with the decisions: a group no
  // consumer follows writes no message and skips the statement (and its payloads).
  const followed = (i: Incident): boolean => plan.consumers.some((units) => (units.includes('*') && i.lane !== 'maintenance') || (i.unitId !== null && units.includes(i.unitId)));
  const messages = rows.map((r) => byEvent.get(r.event_id)!).filter(followed);
  const queued = messages.length === 0 ? new Set<number>() : await enqueueMany(tx, messages.map((incident, ord) => ({ ord, incident_id: incident.id, unit_id: incident.unitId, maint: incident.lane === 'maintenance', payload: incident })));
  for (const r of rows) {
    const incident = byEvent.get(r.event_id)!;
    const local = new Outcome();
    if (incident.unitId) local.dispatches.push({ incident, unitId: incident.unitId, kind: 'dispatch' });
    if (queued.has(incident.id)) local.queued = true;
    local.touch(incident);
    answers.set(r.ord, { answer: 'inserted', local });
  }
}
