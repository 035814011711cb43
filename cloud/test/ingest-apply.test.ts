// Alarm integrity in the incident engine (issue 10), on every Store backend: per-event isolation of
// store errors, edge sequence order per source, hazard-family correlation with re-routing and
// re-deadlining, same-device escalation and the acknowledgement policy for self-cleared alarms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AlarmEvent } from '@gridwatch/protocol';
import { PgliteStore } from '../src/store/pglite.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { migrate } from '../src/store/migrate.ts';
import type { Queryable, Store } from '../src/store/store.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents, DEFAULT_ENGINE, type ApplyResult } from '../src/incidents/apply.ts';
import { auditTrail, getIncident, type Incident } from '../src/incidents/incident.ts';
import { applyAction, type Action } from '../src/incidents/lifecycle.ts';
import { Outcome, type EngineOptions } from '../src/incidents/outcome.ts';
import { EventRefused, isTransientStoreError } from '../src/incidents/store-errors.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { alarmEvent, createTempDatabase, type TempDatabase } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function suite(name: string, open: () => Promise<Store>, cleanup: () => Promise<void> = async () => {}): void {
  describe(name, () => {
    let store: Store;
    const gateway = { gatewayId: 'gw-int', site: 'sz-futian' };
    let seq = 0;
    const ev = (overrides: Partial<AlarmEvent>): AlarmEvent => alarmEvent(gateway.gatewayId, ++seq, overrides);
    const apply = (events: AlarmEvent[], engine: EngineOptions = DEFAULT_ENGINE, outcome = new Outcome()): Promise<ApplyResult> =>
      store.transaction((tx) => applyEvents(tx, gateway, events, engine, outcome));
    const incidentOf = async (eventId: string): Promise<Incident> => {
      const rows = await store.query<{ incident_id: string }>('SELECT incident_id FROM events WHERE event_id = $1', [eventId]);
      return (await getIncident(store, Number(rows[0]?.incident_id))) as Incident;
    };
    const pendingDeadlines = (id: number): Promise<{ kind: string; secs: number }[]> =>
      store.query('SELECT kind, round(extract(epoch FROM due_at - now()))::int AS secs FROM deadlines WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL', [id]);
    const act = (id: number, action: Action): Promise<Incident> =>
      store.transaction((tx) => applyAction(tx, id, { action, actor: 'staff-1', note: action, source: 'test' }, DEFAULT_ENGINE, new Outcome()));

    before(async () => {
      store = await open();
      await migrate(store);
      await new GatewayRegistry(store).addGateway({ ...gateway, secret: 'integrity-secret-1' });
      await store.transaction(async (tx) => {
        await importAddressesCsv(tx, fixture('addresses.csv'));
        await importUnitsCsv(tx, fixture('units.csv'));
        await importRulesCsv(tx, fixture('rules.csv'));
      });
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    test('a store error on one event rejects that event only; the others commit', async () => {
      // A constraint the schema knows nothing of stands in for any value the store refuses.
      await store.query("ALTER TABLE events ADD CONSTRAINT integrity_test_refuse CHECK (reason <> 'refused by the store')");
      try {
        const good1 = ev({ deviceId: 'iso-1', addressId: 'FT-0002-0101', level: 3 });
        const bad = ev({ deviceId: 'iso-2', addressId: 'FT-0002-0101', level: 3, reason: 'refused by the store' });
        const good2 = ev({ deviceId: 'iso-3', addressId: 'FT-0004-0101', alarmType: 'water_leak', level: 3 });
        const result = await apply([good1, bad, good2]);
        assert.deepEqual(result.inserted, [good1.id, good2.id]);
        assert.equal(result.rejected.length, 1);
        assert.equal(result.rejected[0]?.id, bad.id);
        assert.match(result.rejected[0]?.reason ?? '', /^store: 23514 .*integrity_test_refuse/);
        const held = await store.query<{ event_id: string }>('SELECT event_id FROM events WHERE event_id = ANY($1::text[]) ORDER BY seq', [`{${[good1.id, bad.id, good2.id].join(',')}}`]);
        assert.deepEqual(held.map((r) => r.event_id), [good1.id, good2.id]);
        assert.equal((await incidentOf(good2.id)).alarmType, 'water_leak');
        const orphan = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM incident_sources WHERE device_id = 'iso-2'");
        assert.equal(orphan[0]?.n, 0, 'nothing of the refused event survives its savepoint');
      } finally {
        await store.query('ALTER TABLE events DROP CONSTRAINT integrity_test_refuse');
      }
    });

    test('an event refused on purpose while applying (EventRefused) is rejected with its own reason and label', async () => {
      const ok = ev({ deviceId: 'known-1', level: 3 });
      const refused = ev({ deviceId: 'stranger-1', level: 3 });
      const gate = (tx: Queryable): Queryable => ({
        exec: (sql) => tx.exec(sql),
        query: (sql, params) =>
          sql.includes('INSERT INTO devices') && params?.includes('stranger-1') ? Promise.reject(new EventRefused('deviceId: stranger-1 is not on record for gw-int', 'event_id')) : tx.query(sql, params),
      });
      const result = await store.transaction((tx) => applyEvents(gate(tx), gateway, [ok, refused]));
      assert.deepEqual(result.inserted, [ok.id]);
      assert.deepEqual(result.rejected, [{ id: refused.id, reason: 'deviceId: stranger-1 is not on record for gw-int', label: 'event_id' }]);
      const held = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [refused.id]);
      assert.equal(held[0]?.n, 0);
    });

    test('a transient store error aborts the batch for a retry instead of rejecting', async () => {
      const event = ev({ deviceId: 'transient-1', level: 3 });
      const failing = (tx: Queryable): Queryable => ({
        exec: (sql) => tx.exec(sql),
        query: (sql, params) => (sql.includes('INSERT INTO events') ? Promise.reject(Object.assign(new Error('could not serialize access'), { code: '40001' })) : tx.query(sql, params)),
      });
      await assert.rejects(store.transaction((tx) => applyEvents(failing(tx), gateway, [event])), /could not serialize/);
      assert.deepEqual((await apply([event])).inserted, [event.id], 'the retry commits it');
      assert.equal(isTransientStoreError(Object.assign(new Error('x'), { code: '40P01' })), true);
      assert.equal(isTransientStoreError(Object.assign(new Error('x'), { code: '08006' })), true);
      assert.equal(isTransientStoreError(new Error('Connection terminated unexpectedly')), true);
      assert.equal(isTransientStoreError(Object.assign(new Error('x'), { code: '22P05' })), false, 'untranslatable character: not transient');
      assert.equal(isTransientStoreError(Object.assign(new Error('x'), { code: '23514' })), false);
    });

    test('per source, events apply in edge sequence order: a late raise after its clear does not reopen', async () => {
      const raiseEv = ev({ deviceId: 'order-1', addressId: 'FT-0006-0101', level: 3 });
      const lateRaise = ev({ deviceId: 'order-1', addressId: 'FT-0006-0101', level: 3 });
      const clearEv = ev({ deviceId: 'order-1', addressId: 'FT-0006-0101', level: 3, action: 'clear' });
      await apply([raiseEv]);
      const first = await incidentOf(raiseEv.id);
      await apply([clearEv]);
      const result = await apply([lateRaise]);
      assert.deepEqual(result.inserted, [lateRaise.id], 'stored and acknowledged');
      assert.deepEqual(result.stale, [lateRaise.id]);
      assert.deepEqual(result.incidents, [], 'no incident changed');
      assert.equal((await getIncident(store, first.id))?.status, 'cleared');
      const open = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE device_id = 'order-1' AND open");
      assert.equal(open[0]?.n, 0, 'the late raise opened nothing');
      const stored = await store.query<{ applied: boolean }>('SELECT applied FROM events WHERE event_id = $1', [lateRaise.id]);
      assert.equal(stored[0]?.applied, false);
      // The next real raise (higher seq) opens a new incident as usual.
      const next = ev({ deviceId: 'order-1', addressId: 'FT-0006-0101', level: 3 });
      await apply([next]);
      const reopened = await incidentOf(next.id);
      assert.notEqual(reopened.id, first.id);
      assert.equal(reopened.status, 'dispatched');
    });

    test('out-of-order within one batch: a clear overtaken by an older raise leaves the source clear', async () => {
      const r = ev({ deviceId: 'order-2', level: 3 });
      const c = ev({ deviceId: 'order-2', level: 3, action: 'clear' });
      const result = await apply([c, r]);
      assert.deepEqual(result.stale, [r.id]);
      const open = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE device_id = 'order-2' AND open");
      assert.equal(open[0]?.n, 0);
    });

    test('gas_low then gas_high on another device in one building: one gas_high incident, level 1, re-routed, both members, level-1 deadline', async () => {
      const low = ev({ deviceId: 'gas-a', alarmType: 'gas_low', level: 2, addressId: 'FT-0001-0203', reason: 'LEL 27%' });
      await apply([low]);
      const before = await incidentOf(low.id);
      assert.equal(before.unitId, 'grid-g01');
      assert.equal(before.hazard, 'gas');
      assert.deepEqual((await pendingDeadlines(before.id)).map((d) => d.kind), ['ack']);
      const outcome = new Outcome();
      const high = ev({ deviceId: 'gas-b', alarmType: 'gas_high', level: 1, addressId: 'FT-0001-0501', reason: 'LEL 70%' });
      await apply([high], DEFAULT_ENGINE, outcome);
      const after = await incidentOf(high.id);
      assert.equal(after.id, before.id, 'one incident');
      assert.equal(after.alarmType, 'gas_high');
      assert.equal(after.level, 1);
      assert.equal(after.reason, 'LEL 70%');
      assert.equal(after.unitId, 'fire-s01', 'the unit the rules give level-1 gas');
      assert.equal(after.tier, 'street');
      assert.equal(after.deviceCount, 2);
      assert.deepEqual(
        after.members.map((m) => [m.deviceId, m.alarmType, m.addressId]),
        [['gas-a', 'gas_low', 'FT-0001-0203'], ['gas-b', 'gas_high', 'FT-0001-0501']],
      );
      const deadlines = await pendingDeadlines(after.id);
      assert.equal(deadlines.length, 1);
      assert.equal(deadlines[0]?.kind, 'ack');
      assert.ok(Math.abs((deadlines[0]?.secs ?? 0) - 60) <= 2, `level-1 acknowledge deadline 60 s, got ${deadlines[0]?.secs}`);
      assert.deepEqual(outcome.dispatches.map((d) => [d.unitId, d.kind]), [['fire-s01', 'dispatch']], 'the fire station is dispatched');
      const trail = (await auditTrail(store, after.id)).map((a) => a.action);
      for (const action of ['correlate', 'reroute', 'redeadline']) assert.ok(trail.includes(action), `audit ${action} in ${trail.join(',')}`);
    });

    test('smoke and gas in one building stay separate incidents', async () => {
      const smoke = ev({ deviceId: 'smoke-sep', alarmType: 'smoke', level: 2, addressId: 'FT-0003-0101' });
      const gas = ev({ deviceId: 'gas-sep', alarmType: 'gas_low', level: 2, addressId: 'FT-0003-0101' });
      await apply([smoke, gas]);
      const a = await incidentOf(smoke.id);
      const b = await incidentOf(gas.id);
      assert.notEqual(a.id, b.id);
      assert.equal(a.hazard, 'fire');
      assert.equal(b.hazard, 'gas');
      assert.equal(a.deviceCount, 1);
      assert.equal(b.deviceCount, 1);
      // A second smoke detector still joins the fire incident.
      const smoke2 = ev({ deviceId: 'smoke-sep-2', alarmType: 'heat', level: 2, addressId: 'FT-0003-0101' });
      await apply([smoke2]);
      assert.equal((await incidentOf(smoke2.id)).id, a.id);
    });

    test('gas_low then gas_high on the same detector: one incident whose level goes 2 → 1, re-routed', async () => {
      const low = ev({ deviceId: 'gas-rise', alarmType: 'gas_low', level: 2, addressId: 'FT-0002-0101' });
      await apply([low]);
      const before = await incidentOf(low.id);
      assert.equal(before.level, 2);
      assert.equal(before.unitId, 'grid-g02');
      const high = ev({ deviceId: 'gas-rise', alarmType: 'gas_high', level: 1, addressId: 'FT-0002-0101' });
      await apply([high]);
      const after = await incidentOf(high.id);
      assert.equal(after.id, before.id);
      assert.equal(after.level, 1);
      assert.equal(after.alarmType, 'gas_high');
      assert.equal(after.kind, 'device', 'one device: no correlation');
      assert.equal(after.deviceCount, 1);
      assert.equal(after.unitId, 'fire-s01');
      assert.equal(after.members.length, 2);
      const trail = await auditTrail(store, after.id);
      assert.ok(trail.some((a) => a.action === 'escalate_level' && /level 2 → 1/.test(a.note)), 'the level change is audited');
      // gas_high clears first: gas_low still in alarm keeps the incident active.
      await apply([ev({ deviceId: 'gas-rise', alarmType: 'gas_high', level: 1, action: 'clear', addressId: 'FT-0002-0101' })]);
      assert.equal((await getIncident(store, after.id))?.alarmState, 'active');
    });

    test('a level-1 alarm that clears by itself stays open as returned, unacknowledged, with its deadline and actions', async () => {
      const raised = ev({ deviceId: 'smoke-rtn', alarmType: 'smoke', level: 1, addressId: 'FT-0005-0101' });
      await apply([raised]);
      const incident = await incidentOf(raised.id);
      await apply([ev({ deviceId: 'smoke-rtn', alarmType: 'smoke', level: 1, action: 'clear', addressId: 'FT-0005-0101' })]);
      const returned = (await getIncident(store, incident.id)) as Incident;
      assert.equal(returned.open, true);
      assert.equal(returned.status, 'dispatched');
      assert.equal(returned.alarmState, 'returned');
      assert.notEqual(returned.clearedAt, null);
      assert.deepEqual((await pendingDeadlines(incident.id)).map((d) => d.kind), ['ack'], 'the ack deadline keeps running');
      await act(incident.id, 'note');
      assert.equal((await act(incident.id, 'acknowledge')).status, 'acknowledged');
      assert.equal((await act(incident.id, 'resolve')).status, 'resolved');
      // Level 3 needs no acknowledgement by default: its clear closes it.
      const minor = ev({ deviceId: 'smoke-rtn-3', alarmType: 'smoke', level: 3 });
      await apply([minor]);
      await apply([ev({ deviceId: 'smoke-rtn-3', alarmType: 'smoke', level: 3, action: 'clear' })]);
      assert.equal((await incidentOf(minor.id)).status, 'cleared');
      // The policy is data: per type it overrides the level.
      const strict: EngineOptions = { ...DEFAULT_ENGINE, ackPolicy: { levels: { 1: true, 2: true, 3: false, 4: false, 5: false }, types: { tamper: true } } };
      const tamper = ev({ deviceId: 'smoke-rtn-3', alarmType: 'tamper', level: 3 });
      await apply([tamper], strict);
      await apply([ev({ deviceId: 'smoke-rtn-3', alarmType: 'tamper', level: 3, action: 'clear' })], strict);
      const held = await incidentOf(tamper.id);
      assert.equal(held.open, true);
      assert.equal(held.alarmState, 'returned');
      assert.equal((await act(held.id, 'false_alarm')).status, 'false_alarm');
    });

    test('a re-raise of a returned alarm makes it active again, same incident', async () => {
      const r1 = ev({ deviceId: 'smoke-again', alarmType: 'smoke', level: 1 });
      await apply([r1]);
      await apply([ev({ deviceId: 'smoke-again', alarmType: 'smoke', level: 1, action: 'clear' })]);
      const r2 = ev({ deviceId: 'smoke-again', alarmType: 'smoke', level: 1 });
      await apply([r2]);
      const a = await incidentOf(r1.id);
      const b = await incidentOf(r2.id);
      assert.equal(a.id, b.id);
      assert.equal(b.alarmState, 'active');
      assert.equal(b.occurrences, 2);
    });
  });
}

suite('PGlite', () => PgliteStore.open('memory://'));

let db: TempDatabase | null = null;
suite(
  'PostgreSQL',
  async () => {
    db = await createTempDatabase();
    return PostgresStore.open(db.url, () => {});
  },
  async () => {
    await db?.drop();
  },
);
