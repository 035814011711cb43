// The set-based group apply (incidents/apply-set.ts) against the per-event isolated path, on real
// PostgreSQL: seeded random groups (repeats, same-device escalation, same-building correlation,
// floods in one community, chattering sources, clears, duplicates, stale seqs, installer tests,
// refused placement, verification) go through both into two fresh databases, and every incident,
// event row, audit trail, deadline and dispatch message must come out the same, as must each
// message's answers and post-commit outcome. A statement count shows the fast path is taken.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { eventIdFor, type AlarmEvent } from '@gridwatch/protocol';
import { PostgresStore } from '../src/store/postgres.ts';
import { migrate } from '../src/store/migrate.ts';
import type { Queryable, SqlParam, Store } from '../src/store/store.ts';
import { GatewayRegistry, type GatewayRecord } from '../src/gateways/registry.ts';
import { allowCommunities, placeDevice } from '../src/gateways/placement.ts';
import { DEFAULT_ENGINE, ISOLATED, type ApplyMode, type ApplyResult } from '../src/incidents/apply.ts';
import { applyGroup, FAST_PATH_STATEMENTS, SET_APPLY, SET_APPLY_STATS } from '../src/incidents/apply-set.ts';
import type { Incident } from '../src/incidents/incident.ts';
import { Outcome, type EngineOptions } from '../src/incidents/outcome.ts';
import { parseAlarmPolicy } from '../src/incidents/policy.ts';
import { addConsumer } from '../src/dispatch/consumers.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { createTempDatabase, type TempDatabase } from './helpers.ts';
import { seededRandom } from '../src/replay/generate.ts';

const GROUPED: ApplyMode = { isolate: false, markSeen: false };
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const TRUSTED: GatewayRecord = { gatewayId: 'gw-set-t', site: 'sz-futian' } as GatewayRecord;
const PLACED: GatewayRecord = { gatewayId: 'gw-set-p', site: 'sz-futian' } as GatewayRecord;
const ADDRESSES = ['FT-0001-0203', 'FT-0001-0501', 'FT-0002-0101', 'FT-0003-0101', 'FT-0004-0101', 'FT-0005-0101', 'FT-0006-0101'];


interface World {
  db: TempDatabase;
  store: Store;
}

async function openWorld(): Promise<World> {
  const db = await createTempDatabase();
  const store = await PostgresStore.open(db.url, () => undefined);
  await migrate(store);
  const registry = new GatewayRegistry(store);
  for (const gw of [TRUSTED, PLACED]) await registry.addGateway({ ...gw, secret: `${gw.gatewayId}-secret-1` });
  await store.transaction(async (tx) => {
    await importAddressesCsv(tx, fixture('addresses.csv'));
    await importUnitsCsv(tx, fixture('units.csv'));
    await importRulesCsv(tx, fixture('rules.csv'));
    await allowCommunities(tx, PLACED.gatewayId, ['FT-C01']);
    await placeDevice(tx, PLACED.gatewayId, 'p-0', 'FT-0001-0203');
    await placeDevice(tx, PLACED.gatewayId, 'p-1', 'FT-0002-0101');
  });
  await addConsumer(store, { id: 'centre', name: 'Dispatch centre', units: ['*'] });
  await addConsumer(store, { id: 'grid-g02-app', name: 'Grid G02', units: ['grid-g02'] });
  return { db, store };
}

/** A seeded scenario: groups of messages (1–3 events each) for one gateway. */
function scenario(seed: number, gateway: GatewayRecord, groups: number): AlarmEvent[][][] {
  const rnd = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const placed = gateway === PLACED;
  const devices = Array.from({ length: 14 }, (_, i) => ({
    id: `${placed ? 'p' : 't'}-${i}`,
    // Some devices share a building (correlation), most a community (floods); some name none.
    address: i % 5 === 4 ? null : pick(ADDRESSES),
  }));
  const types = ['smoke', 'smoke', 'gas_low', 'gas_high', 'water_leak', 'low_battery'];
  let seq = 0;
  let edge = 1_750_000_000_000 + seed * 1000;
  const sent: AlarmEvent[] = [];
  const gaps: number[] = [];
  const out: AlarmEvent[][][] = [];
  for (let g = 0; g < groups; g += 1) {
    const group: AlarmEvent[][] = [];
    const size = 5 + Math.floor(rnd() * 40);
    let message: AlarmEvent[] = [];
    for (let n = 0; n < size; n += 1) {
      edge += rnd() < 0.05 ? 400_000 : Math.floor(rnd() * 20_000);
      const roll = rnd();
      let event: AlarmEvent;
      if (roll < 0.05 && sent.length > 0) event = pick(sent); // duplicate
      else {
        if (rnd() < 0.15) gaps.push((seq += 1)); // a seq left for a late (stale) event
        const late = roll < 0.1 && gaps.length > 0;
        const s = late ? gaps.shift()! : (seq += 1);
        // Fresh devices (a storm's typical raise) are what the fast path takes; the pool the rest.
        const fresh = rnd() < 0.4;
        const device = fresh ? { id: `${placed ? 'p' : 't'}-f${s}`, address: rnd() < 0.6 ? null : pick(ADDRESSES) } : pick(devices);
        const foreign = placed && rnd() < 0.08;
        event = {
          id: eventIdFor(gateway.gatewayId, s),
          seq: s,
          deviceId: device.id,
          profileId: 'acme/sd-100',
          alarmType: pick(types),
          action: !fresh && rnd() < 0.3 ? 'clear' : 'raise',
          level: 1 + Math.floor(rnd() * 4),
          reason: `reading ${n}`,
          edgeTime: edge,
          ...(foreign ? { addressId: 'FT-0003-0101' } : device.address ? { addressId: device.address } : {}),
          ...(rnd() < 0.04 ? { test: true } : {}),
          ...(rnd() < 0.03 ? { chattering: true } : {}),
          ...(rnd() < 0.5 ? { readings: { value: n } } : {}),
        };
        sent.push(event);
      }
      message.push(event);
      if (message.length >= 1 + Math.floor(rnd() * 3)) {
        group.push(message);
        message = [];
      }
    }
    if (message.length > 0) group.push(message);
    out.push(group);
  }
  return out;
}

/** What a message answered and announced, with incidents named by their first event (ids differ between databases). */
function answerOf(result: ApplyResult, outcome: Outcome): unknown {
  return {
    inserted: result.inserted,
    duplicates: result.duplicates,
    stale: result.stale,
    rejected: result.rejected,
    // Sorted: the reference's own order follows UPDATE … RETURNING (flood folds), i.e. the table's physical order.
    incidents: sortedIncidents(result.incidents),
    outcome: sortedIncidents([...outcome.incidents.values()]),
    dispatches: outcome.dispatches.map((d) => ({ incident: plainIncident(d.incident), unitId: d.unitId, kind: d.kind })),
    queued: outcome.queued,
  };
}

function sortedIncidents(list: readonly Incident[]): unknown[] {
  const key = (i: Incident): string => `${i.kind === 'flood' ? 'flood' : 'inc'}:${i.firstEventId}`;
  return [...list].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0)).map(plainIncident);
}

/** An incident without its database-assigned id and clock times. */
function plainIncident(i: Incident): unknown {
  const { id: _id, raisedAt: _r, updatedAt: _u, clearedAt, acknowledgedAt: _a, groupId, ...rest } = i;
  return { ...rest, returned: clearedAt !== null, grouped: groupId !== null };
}

/** Applies one group: set-based (with ingest's isolated redo on a store error) or the reference, isolated. */
async function applyOne(store: Store, gateway: GatewayRecord, group: AlarmEvent[][], engine: EngineOptions, set: boolean): Promise<unknown[]> {
  const run = async (mode: ApplyMode): Promise<unknown[]> =>
    store.transaction(async (tx) => {
      const outcomes = group.map(() => new Outcome());
      const results = await applyGroup(tx, gateway, group, engine, outcomes, mode);
      return results.map((r, i) => answerOf(r, outcomes[i]!));
    });
  if (!set) return run(ISOLATED);
  try {
    return await run(GROUPED);
  } catch {
    return run(ISOLATED);
  }
}

const q = (store: Queryable, sql: string, params: SqlParam[] = []): Promise<Record<string, unknown>[]> => store.query<Record<string, unknown>>(sql, params);

/** Everything the incident engine wrote, keyed by first event (and kind for flood notices), times as durations. */
async function snapshot(store: Store): Promise<unknown> {
  const key = `(CASE WHEN i.kind = 'flood' THEN 'flood:' ELSE 'inc:' END || i.first_event_id)`;
  const keyOf = (alias: string): string => `(SELECT CASE WHEN x.kind = 'flood' THEN 'flood:' ELSE 'inc:' END || x.first_event_id FROM incidents x WHERE x.id = ${alias})`;
  return {
    incidents: await q(
      store,
      `SELECT ${key} AS key, kind, alarm_type, hazard, level, status, open, members, occurrences, ${keyOf('i.group_id')} AS grp, chattering, dispatchable,
         tier, unit_id, device_count, verification, building, community, address_id, reason, reason_code, reason_params, cleared_at IS NULL AS active,
         escalations, raised_edge_time, verify_due_at
       FROM incidents i ORDER BY key`,
    ),
    sources: await q(store, `SELECT ${keyOf('s.incident_id')} AS inc, gateway_id, device_id, alarm_type, open FROM incident_sources s ORDER BY 1, 2, 3, 4`),
    events: await q(store, `SELECT event_id, applied, test, address_id, readings, ${keyOf('e.incident_id')} AS inc FROM events e ORDER BY event_id`),
    sourceState: await q(store, 'SELECT gateway_id, device_id, alarm_type, last_seq, active FROM source_state ORDER BY 1, 2, 3'),
    devices: await q(store, 'SELECT gateway_id, device_id, address_id FROM devices ORDER BY 1, 2'),
    audit: namedIds(
      await q(
        store,
        `SELECT ${keyOf('a.incident_id')} AS inc, actor, source, action, from_status, to_status, note, note_code, note_params
         FROM incident_audit a ORDER BY inc, a.id`,
      ),
      await q(store, `SELECT id::int AS id, ${key} AS key FROM incidents i`),
    ),
    deadlines: await q(
      store,
      `SELECT ${keyOf('d.incident_id')} AS inc, kind, tier, extract(epoch FROM due_at - started_at) AS secs, cancelled_at IS NULL AS pending
       FROM deadlines d ORDER BY inc, d.id`,
    ),
    dispatch: await q(
      store,
      `SELECT ${keyOf('m.incident_id')} AS inc, consumer_id, kind, unit_id, state,
         payload - 'id' - 'raisedAt' - 'updatedAt' - 'groupId' - 'clearedAt' - 'acknowledgedAt' AS payload
       FROM dispatch_messages m ORDER BY inc, consumer_id, m.id`,
    ),
  };
}

/** Audit notes naming another incident (a flood notice, a chattering survivor) name it by key: ids differ between databases. */
function namedIds(rows: Record<string, unknown>[], ids: Record<string, unknown>[]): Record<string, unknown>[] {
  const keyOf = new Map(ids.map((r) => [Number(r.id), String(r.key)]));
  return rows.map((r) => {
    const params = { ...(r.note_params as Record<string, unknown>) };
    let note = String(r.note);
    for (const field of ['notice', 'incident']) {
      const id = params[field];
      if (typeof id !== 'number') continue;
      params[field] = keyOf.get(id);
      note = note.replace(new RegExp(`\\b${id}\\b`), String(keyOf.get(id)));
    }
    return { ...r, note, note_params: params };
  });
}

const POLICIES: Record<string, EngineOptions> = {
  default: DEFAULT_ENGINE,
  // Floods at 3 in a community, smoke verification in FT-C01, a short chatter window.
  strict: {
    ...DEFAULT_ENGINE,
    alarmPolicy: parseAlarmPolicy({
      version: 1,
      defaults: { flood: { count: 3, windowS: 300 }, chatter: { count: 3, windowS: 120, releaseS: 200 } },
      areas: { 'FT-C01': { types: { smoke: { verification: { enabled: true } } } } },
    }),
  },
  // No flood folding: correlation and chatter decide alone.
  unfolded: { ...DEFAULT_ENGINE, alarmPolicy: parseAlarmPolicy({ version: 1, defaults: { flood: { fold: false } } }) },
};

describe('set-based group apply: the same as one event at a time', () => {
  const worlds: World[] = [];
  const world = async (): Promise<World> => {
    const w = await openWorld();
    worlds.push(w);
    return w;
  };
  after(async () => {
    SET_APPLY.enabled = true;
    for (const w of worlds) {
      await w.store.close();
      await w.db.drop();
    }
  });

  for (const [name, engine] of Object.entries(POLICIES)) {
    for (const seed of [1, 2, 3]) {
      test(`seed ${seed}, ${name} policy: incidents, events, audit, deadlines, dispatch and answers match`, async () => {
        const [set, ref] = [await world(), await world()];
        const before = { ...SET_APPLY_STATS };
        for (const gateway of [TRUSTED, PLACED]) {
          for (const [g, group] of scenario(seed * 7 + (gateway === PLACED ? 1 : 0), gateway, 8).entries()) {
            const a = await applyOne(set.store, gateway, group, engine, true);
            const b = await applyOne(ref.store, gateway, group, engine, false);
            assert.deepEqual(a, b, `answers of ${gateway.gatewayId} group ${g}`);
          }
        }
        assert.deepEqual(await snapshot(set.store), await snapshot(ref.store));
        // The comparison means something only if the fast path was taken, and not for everything.
        const events = SET_APPLY_STATS.events - before.events;
        const fast = SET_APPLY_STATS.fast - before.fast;
        assert.ok(fast >= 20 && fast < events, `fast path: ${fast} of ${events} events`);
      });
    }
  }

  /** Hand-made groups through both paths; the snapshots must match and `check` sees the set side. */
  const both = async (groups: AlarmEvent[][][], engine: EngineOptions, check: (store: Store) => Promise<void>): Promise<void> => {
    const [set, ref] = [await world(), await world()];
    for (const group of groups) assert.deepEqual(await applyOne(set.store, TRUSTED, group, engine, true), await applyOne(ref.store, TRUSTED, group, engine, false));
    assert.deepEqual(await snapshot(set.store), await snapshot(ref.store));
    await check(set.store);
  };
  const raw = (seq: number, deviceId: string, over: Partial<AlarmEvent> = {}): AlarmEvent => ({
    id: eventIdFor(TRUSTED.gatewayId, seq), seq, deviceId, profileId: 'acme/sd-100', alarmType: 'smoke', action: 'raise', level: 3, reason: 'r', edgeTime: 1_765_000_000_000 + seq * 1000, ...over,
  });

  test('a raise in a building with an open incident of its family correlates, in a later group', async () => {
    const engine = POLICIES.unfolded!;
    const warm = [[raw(1, 'warm')]];
    await both([warm, [[raw(2, 'c-1', { addressId: 'FT-0001-0203' })]], [[raw(3, 'w-1')], [raw(4, 'c-2', { addressId: 'FT-0001-0501' })]]], engine, async (store) => {
      const rows = await q(store, "SELECT kind, device_count FROM incidents WHERE building = 'FT-B001'");
      assert.deepEqual(rows, [{ kind: 'correlated', device_count: 2 }]);
    });
  });

  test('a source raising again after its clears closed it is chattering, each raise in its own group', async () => {
    const engine = POLICIES.unfolded!;
    const groups = [[[raw(1, 'warm')]]];
    for (let i = 0; i < 4; i += 1) {
      groups.push([[raw(10 + 2 * i, 'ch-1', { alarmType: 'water_leak' })]], [[raw(11 + 2 * i, 'ch-1', { alarmType: 'water_leak', action: 'clear' })]]);
    }
    await both(groups, engine, async (store) => {
      const rows = await q(store, "SELECT bool_or(chattering) AS chattering, count(*)::int AS n FROM incidents WHERE device_id = 'ch-1' AND group_id IS NULL");
      assert.deepEqual(rows, [{ chattering: true, n: 1 }]);
    });
  });

  test('a fast event and a later repeat of its source in one group: one incident, two occurrences (fast first, then per event)', async () => {
    const { store } = await world();
    const ev = (seq: number, deviceId: string, level = 3): AlarmEvent => ({
      id: eventIdFor(TRUSTED.gatewayId, seq), seq, deviceId, profileId: 'acme/sd-100', alarmType: 'smoke', action: 'raise', level, reason: 'r', edgeTime: 1_760_000_000_000 + seq,
    });
    await applyOne(store, TRUSTED, [[ev(1, 'warm-up')]], DEFAULT_ENGINE, true);
    const answers = await applyOne(store, TRUSTED, [[ev(2, 'o-1')], [ev(3, 'o-2')], [ev(4, 'o-1', 2)]], DEFAULT_ENGINE, true);
    assert.equal(answers.length, 3);
    const rows = await q(store, "SELECT device_id, occurrences, level FROM incidents WHERE device_id LIKE 'o-%' ORDER BY device_id");
    assert.deepEqual(rows, [{ device_id: 'o-1', occurrences: 2, level: 2 }, { device_id: 'o-2', occurrences: 1, level: 3 }]);
  });

  test('an event stored by another writer between the reads and the write fails the group, for the isolated redo', async () => {
    const { store } = await world();
    const evs = [raw(1, 'warm'), raw(2, 'race-1'), raw(3, 'race-2')];
    await applyOne(store, TRUSTED, [[evs[0]!]], DEFAULT_ENGINE, true);
    // Another replica commits race-2's event after this group's reads, just before its write.
    const racing = async (tx: Queryable): Promise<void> => {
      let raced = false;
      const spy: Queryable = {
        query: async (sql, params) => {
          if (!raced && sql.includes('INSERT INTO incidents') && sql.includes('json_to_recordset')) {
            raced = true;
            await tx.query("INSERT INTO events (event_id, gateway_id, site, seq, device_id, profile_id, alarm_type, action, level, reason, edge_time) SELECT $1, $2, 'sz-futian', 3, 'race-2', 'p', 'smoke', 'raise', 3, 'r', now()", [evs[2]!.id, TRUSTED.gatewayId]);
          }
          return tx.query(sql, params);
        },
        exec: (sql) => tx.exec(sql),
      };
      await applyGroup(spy, TRUSTED, [[evs[1]!], [evs[2]!]], DEFAULT_ENGINE, [new Outcome(), new Outcome()], GROUPED);
    };
    await assert.rejects(store.transaction(racing), /set apply: 1 of 2 events changed under the group/);
    assert.deepEqual(await q(store, "SELECT count(*)::int AS n FROM incidents WHERE device_id LIKE 'race-%'"), [{ n: 0 }], 'nothing of the group survives');
  });

  test('100 plain new raises cost O(1) statements on the fast path, O(n) with it off', async () => {
    const { store } = await world();
    let seq = 1000;
    const group = (): AlarmEvent[][] =>
      Array.from({ length: 100 }, () => {
        seq += 1;
        return [{ id: eventIdFor(TRUSTED.gatewayId, seq), seq, deviceId: `plain-${seq}`, profileId: 'acme/sd-100', alarmType: 'smoke', action: 'raise' as const, level: 2, reason: 'r', edgeTime: 1_770_000_000_000 + seq }];
      });
    const count = async (): Promise<number> => {
      let statements = 0;
      await store.transaction(async (tx) => {
        const counting: Queryable = { query: (sql, params) => ((statements += 1), tx.query(sql, params)), exec: (sql) => tx.exec(sql) };
        const batches = group();
        await applyGroup(counting, TRUSTED, batches, DEFAULT_ENGINE, batches.map(() => new Outcome()), GROUPED);
      });
      return statements;
    };
    await count(); // the gateway's first group also lets placement.ts log its one-time warning (two reads more)
    const fast = await count();
    assert.ok(fast <= FAST_PATH_STATEMENTS, `fast path: ${fast} statements for 100 raises`);
    SET_APPLY.enabled = false;
    try {
      const slow = await count();
      assert.ok(slow >= 500, `per event: ${slow} statements for 100 raises`);
    } finally {
      SET_APPLY.enabled = true;
    }
    const made = await q(store, "SELECT count(*)::int AS n, count(DISTINCT first_event_id)::int AS d FROM incidents WHERE device_id LIKE 'plain-%'");
    assert.deepEqual(made, [{ n: 300, d: 300 }]);
  });
});
