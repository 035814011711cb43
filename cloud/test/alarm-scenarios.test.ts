// Scripted days on the rehearsal clock (issue 17; CONVENTIONS.md #6 and #17): test/cases/<slug>/
// script.json holds the alarm policy, the device reports with their times (seconds from the start
// of the day) and what staff must see — mid-day checkpoints and the end of the day. One runner
// plays every case through the real cloud incident logic (applyEvents → incidents on PGlite) with
// edge times from the script, and runs the alarm-policy timers (flood quiet time, verification)
// at each scripted instant: nothing reads the wall clock, so a day replays in seconds with the
// same result. The address book, units and routing rules are cloud/test/fixtures'. A script with
// `edge.devices` sends device *reports* (readings) through the real edge rule engine (bundled
// profiles, the engine's injectable clock set to the scripted time) and applies what it raises.
// The cloud engine runs on the same clock (`clock`: deadlines start at the scripted time). A script
// with `supervision` also runs the gateway silence check and offline hold-off at every instant;
// its `gateway` steps are non-alarm messages (telemetry), recorded as ingest records any message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlarmEvent, ReadingValue } from '@gridwatch/protocol';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { MemoryRuleStore, RuleEngine, type EventDraft } from '@gridwatch/edge';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { auditTrail, listIncidents, type Incident } from '../src/incidents/incident.ts';
import type { EngineOptions } from '../src/incidents/outcome.ts';
import { parseAlarmPolicy } from '../src/incidents/policy.ts';
import { runAlarmPolicyTimers } from '../src/jobs/alarm-policy.ts';
import { Outcome } from '../src/incidents/outcome.ts';
import { checkHeartbeats, markAlive } from '../src/supervision/gateways.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';
import type { Store } from '../src/store/store.ts';

const CASES = new URL('../../test/cases/', import.meta.url).pathname;
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
/** 2026-12-01 08:00 UTC: the scripted day's zero. */
const DAY_START = Date.UTC(2026, 11, 1, 8, 0, 0);
const GATEWAY = { gatewayId: 'gw-rehearsal', site: 'sz-futian' };

interface Report {
  at: number;
  device: string;
  type: string;
  action: 'raise' | 'clear';
  level: number;
  address?: string;
  chattering?: boolean;
}
/** Expands to raise/clear alternating every `period` s from `from` until `until`. */
interface Toggle {
  toggle: { device: string; type: string; level: number; address?: string; period: number; from: number; until: number };
}
/** `count` devices `<prefix><n>` raising one after another every `every` s from `from`. */
interface Burst {
  burst: { prefix: string; type: string; level: number; addresses: string[]; count: number; from: number; every: number };
}
/** A device report through the edge rules: readings by point name. */
interface DeviceReport {
  at: number;
  report: { device: string; readings: Record<string, ReadingValue> };
}
/** Reports alternating `point` true/false every `period` s (a toggling detector as the edge sees it). */
interface ToggleReport {
  toggleReport: { device: string; point: string; period: number; from: number; until: number };
}
type BoardItem = Partial<Incident> & { dispatches?: number; auditIncludes?: string[]; ackDeadlineS?: number };
interface Expectation {
  /** Every incident row (folded ones included). */
  incidents?: number;
  /** The board (items not folded), in id order; each entry's fields must match. */
  board?: BoardItem[];
  lanes?: { emergency?: number; maintenance?: number };
  /** The scripted gateway's supervision status (scripts with `supervision`). */
  gatewayStatus?: 'online' | 'offline' | 'unknown';
  /** Alarm types no incident of the day may have (e.g. gateway_offline). */
  absentTypes?: string[];
}
/** A message from the gateway that is not an alarm (telemetry): what ingest records for any message — proof of life. */
interface GatewayMessage {
  at: number;
  gateway: 'telemetry';
}
/** Gateway messages every `every` s from `from` until `until`. */
interface GatewayMessages {
  gatewayMessages: { message: 'telemetry'; every: number; from: number; until: number };
}
interface Checkpoint {
  at: number;
  expect: Expectation;
}
type Step = Report | Toggle | Burst | Checkpoint | DeviceReport | ToggleReport | GatewayMessage | GatewayMessages;
type Timed = Report | Checkpoint | DeviceReport | GatewayMessage;
interface Script {
  description: string;
  alarmPolicy?: unknown;
  /** Devices behind the edge rule engine: id, bundled profile id, address. */
  edge?: { devices: { deviceId: string; profileId: string; addressId: string }[] };
  /** Gateway supervision on the rehearsal clock: the silence check and the offline hold-off run at every scripted instant. */
  supervision?: { heartbeatTimeoutS: number; holdOffS: number; restoreS: number };
  steps: Step[];
  /** Timers run at this time last, then `expect` is checked. */
  end: number;
  expect: Expectation;
}

function expand(steps: Step[]): Timed[] {
  const out: Timed[] = [];
  for (const step of steps) {
    if ('gatewayMessages' in step) {
      const g = step.gatewayMessages;
      for (let at = g.from; at <= g.until; at += g.every) out.push({ at, gateway: g.message });
    } else if ('toggleReport' in step) {
      const t = step.toggleReport;
      for (let at = t.from, n = 0; at <= t.until; at += t.period, n += 1) out.push({ at, report: { device: t.device, readings: { [t.point]: n % 2 === 0 } } });
    } else if ('toggle' in step) {
      const t = step.toggle;
      for (let at = t.from, n = 0; at <= t.until; at += t.period, n += 1) {
        out.push({ at, device: t.device, type: t.type, level: t.level, action: n % 2 === 0 ? 'raise' : 'clear', ...(t.address ? { address: t.address } : {}) });
      }
    } else if ('burst' in step) {
      const b = step.burst;
      for (let n = 0; n < b.count; n += 1) {
        out.push({ at: b.from + n * b.every, device: `${b.prefix}${n + 1}`, type: b.type, level: b.level, action: 'raise', address: b.addresses[n % b.addresses.length] as string });
      }
    } else out.push(step);
  }
  // Stable: a checkpoint at the same second as a report comes after it.
  return out.map((s, i) => ({ s, i })).sort((a, b) => a.s.at - b.s.at || a.i - b.i).map(({ s }) => s);
}

async function check(store: Store, slug: string, when: string, want: Expectation): Promise<void> {
  const all = await listIncidents(store, { limit: 10_000 });
  const label = `${slug} @ ${when}`;
  if (want.incidents !== undefined) assert.equal(all.length, want.incidents, `${label}: incident rows`);
  if (want.lanes?.maintenance !== undefined) assert.equal((await listIncidents(store, { lane: 'maintenance', limit: 10_000 })).length, want.lanes.maintenance, `${label}: maintenance queue`);
  if (want.absentTypes) assert.deepEqual(all.filter((i) => want.absentTypes?.includes(i.alarmType)).map((i) => `${i.alarmType} ${i.id}`), [], `${label}: absent types`);
  if (want.gatewayStatus) {
    const rows = await store.query<{ status: string }>('SELECT status FROM gateways WHERE id = $1', [GATEWAY.gatewayId]);
    assert.equal(rows[0]?.status, want.gatewayStatus, `${label}: gateway status`);
  }
  if (want.lanes?.emergency !== undefined) assert.equal((await listIncidents(store, { lane: 'emergency', limit: 10_000 })).length, want.lanes.emergency, `${label}: emergency board`);
  if (!want.board) return;
  const board = (await listIncidents(store, { board: true, limit: 10_000 })).sort((a, b) => a.id - b.id);
  assert.equal(board.length, want.board.length, `${label}: board items ${JSON.stringify(board.map((b) => [b.alarmType, b.status]))}`);
  for (const [index, item] of want.board.entries()) {
    const got = board[index] as Incident;
    const { dispatches, auditIncludes, ackDeadlineS, ...fields } = item;
    for (const [key, value] of Object.entries(fields)) assert.deepEqual(got[key as keyof Incident], value, `${label}: board ${index} ${key}`);
    const trail = await auditTrail(store, got.id);
    if (dispatches !== undefined) assert.equal(trail.filter((a) => a.action === 'dispatch' || a.action === 'reroute').length, dispatches, `${label}: board ${index} dispatches`);
    for (const action of auditIncludes ?? []) assert.ok(trail.some((a) => a.action === action), `${label}: board ${index} audit has ${action}: ${trail.map((a) => a.action).join(',')}`);
    if (ackDeadlineS !== undefined) {
      const rows = await store.query<{ secs: number }>(
        // From the alarm's own (scripted) time: deadlines run on the rehearsal clock, not the wall clock the test runs at.
        "SELECT round(extract(epoch FROM d.due_at - i.raised_edge_time))::int AS secs FROM deadlines d JOIN incidents i ON i.id = d.incident_id WHERE d.incident_id = $1 AND d.kind = 'ack' ORDER BY d.id DESC LIMIT 1",
        [got.id],
      );
      assert.ok(Math.abs((rows[0]?.secs ?? -1) - ackDeadlineS) <= 2, `${label}: board ${index} ack deadline ${rows[0]?.secs} s, expected ${ackDeadlineS}`);
    }
  }
}

/** The edge half of a scripted day: the real rule engine on the scripted clock. */
function edgeRules(script: Script, clock: { now(): number }): RuleEngine | null {
  if (!script.edge) return null;
  const { profiles } = loadProfiles();
  const devices = script.edge.devices.map((d) => {
    const loaded = profiles.get(d.profileId);
    assert.ok(loaded, `profile ${d.profileId}`);
    return { deviceId: d.deviceId, profile: loaded.profile, addressId: d.addressId };
  });
  return new RuleEngine({ devices, store: new MemoryRuleStore(), clock }).init();
}

function reportEvents(rules: RuleEngine | null, step: Timed, nowMs: number): EventDraft[] {
  if (!rules) return [];
  const drafts = rules.tick(nowMs);
  if ('report' in step) {
    const readings = Object.entries(step.report.readings).map(([point, value]) => ({ deviceId: step.report.device, point, value, t: nowMs }));
    drafts.push(...rules.evaluate(step.report.device, readings, nowMs));
  }
  return drafts;
}

async function play(store: Store, slug: string, script: Script): Promise<void> {
  let nowMs = DAY_START;
  const policy: EngineOptions = script.alarmPolicy === undefined ? DEFAULT_ENGINE : { ...DEFAULT_ENGINE, alarmPolicy: parseAlarmPolicy(script.alarmPolicy) };
  const engine: EngineOptions = { ...policy, clock: () => nowMs };
  const rules = edgeRules(script, { now: () => nowMs });
  let seq = 0;
  const send = async (event: AlarmEvent): Promise<void> => {
    const result = await store.transaction((tx) => applyEvents(tx, GATEWAY, [event], engine));
    assert.deepEqual(result.rejected, [], `${slug}: event ${event.id} rejected`);
  };
  const supervise = async (): Promise<void> => {
    if (!script.supervision) return;
    const { heartbeatTimeoutS, holdOffS, restoreS } = script.supervision;
    await checkHeartbeats(store, heartbeatTimeoutS, { ...engine, gatewaySupervision: { holdOffS, restoreS } }, new Outcome());
  };
  for (const step of expand(script.steps)) {
    nowMs = DAY_START + step.at * 1000;
    await runAlarmPolicyTimers(store, engine, nowMs);
    await supervise();
    for (const draft of reportEvents(rules, step, nowMs)) {
      seq += 1;
      await send({ ...draft, id: `${GATEWAY.gatewayId}:${seq}`, seq });
    }
    if ('gateway' in step) {
      await markAlive(store, GATEWAY.gatewayId, nowMs);
      continue;
    }
    if ('expect' in step) {
      await check(store, slug, `${step.at} s`, step.expect);
      continue;
    }
    if ('report' in step) continue;
    seq += 1;
    const event: AlarmEvent = {
      id: `${GATEWAY.gatewayId}:${seq}`,
      seq,
      deviceId: step.device,
      profileId: 'rehearsal/script',
      alarmType: step.type,
      action: step.action,
      level: step.level,
      reason: `${step.type} ${step.action} (scripted at ${step.at} s)`,
      edgeTime: nowMs,
      ...(step.address ? { addressId: step.address } : {}),
      ...(step.chattering ? { chattering: true } : {}),
    };
    await send(event);
  }
  nowMs = DAY_START + script.end * 1000;
  await runAlarmPolicyTimers(store, engine, nowMs);
  await supervise();
  await check(store, slug, `end (${script.end} s)`, script.expect);
}

describe('scripted days on the rehearsal clock (test/cases)', () => {
  const slugs = readdirSync(CASES).filter((d) => !d.startsWith('.')).sort();
  let store: Store;
  before(async () => {
    store = await PgliteStore.open('memory://');
    await migrate(store);
    await new GatewayRegistry(store).addGateway({ ...GATEWAY, secret: 'rehearsal-secret-1' });
    await store.transaction(async (tx) => {
      await importAddressesCsv(tx, fixture('addresses.csv'));
      await importUnitsCsv(tx, fixture('units.csv'));
      await importRulesCsv(tx, fixture('rules.csv'));
    });
  });
  after(async () => store.close());

  test('there are scripted days', () => assert.ok(slugs.length >= 5, `cases in ${CASES}`));
  for (const slug of slugs) {
    test(slug, async () => {
      const script = JSON.parse(readFileSync(join(CASES, slug, 'script.json'), 'utf8')) as Script;
      // Each day starts on an empty board; the address book and rules stay.
      await store.query('TRUNCATE incidents, incident_sources, incident_audit, deadlines, events, source_state, dispatch_messages RESTART IDENTITY CASCADE');
      await store.query("UPDATE gateways SET status = 'unknown', last_seen_at = NULL, online_since = NULL, offline_since = NULL");
      await play(store, slug, script);
    });
  }
});
