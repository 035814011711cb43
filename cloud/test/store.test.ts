// One suite, every Store backend (CONVENTIONS.md #9): PGlite and PostgreSQL must behave alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgliteStore } from '../src/store/pglite.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { migrate, loadMigrations } from '../src/store/migrate.ts';
import type { Store } from '../src/store/store.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { readFileSync } from 'node:fs';
import { applyEvents, DEFAULT_ENGINE } from '../src/incidents/apply.ts';
import { auditTrail, getIncident, type Incident } from '../src/incidents/incident.ts';
import { applyAction, TransitionError, type Action } from '../src/incidents/lifecycle.ts';
import { fireDueDeadlines } from '../src/incidents/deadlines.ts';
import { Outcome, type EngineOptions } from '../src/incidents/outcome.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../src/routing/directory.ts';
import { addConsumer } from '../src/dispatch/consumers.ts';
import { ackMessage, claim, nackMessage, deadMessages } from '../src/dispatch/queue.ts';
import { DEFAULT_DEADLINES } from '../src/config.ts';
import type { AlarmEvent } from '@gridwatch/protocol';
import { alarmEvent, createTempDatabase, delay, type TempDatabase } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function storeSuite(name: string, open: () => Promise<Store>, cleanup: () => Promise<void> = async () => {}): void {
  describe(name, () => {
    let store: Store;
    const gateway = { gatewayId: 'gw-store', site: 'sz-futian' };

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    test('migrations apply once, then are a no-op (also when two run at once)', async () => {
      const all = await loadMigrations();
      const results = await Promise.all([migrate(store), migrate(store)]);
      assert.deepEqual(results.flat().sort((a, b) => a - b), all.map((m) => m.version));
      assert.deepEqual(await migrate(store), []);
      const rows = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => Number(r.version)), all.map((m) => m.version));
      await new GatewayRegistry(store).addGateway({ ...gateway, secret: 'store-suite-secret' });
    });

    test('a failing transaction leaves nothing behind', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query("INSERT INTO dead_letters (topic, reason, payload) VALUES ('t', 'r', 'p')");
          throw new Error('boom');
        }),
        /boom/,
      );
      const rows = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
      assert.equal(rows[0]?.n, 0);
    });

    test('event insert is idempotent by event id', async () => {
      const event = alarmEvent(gateway.gatewayId, 1);
      const first = await store.transaction((tx) => applyEvents(tx, gateway, [event]));
      const second = await store.transaction((tx) => applyEvents(tx, gateway, [event, event]));
      assert.deepEqual(first.inserted, [event.id]);
      assert.equal(first.incidents.length, 1);
      assert.deepEqual(second, { inserted: [], duplicates: [event.id, event.id], stale: [], rejected: [], incidents: [] });
      const events = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      assert.equal(events[0]?.n, 1);
      const incident = await getIncident(store, first.incidents[0]!.id);
      assert.equal(incident?.occurrences, 1);
      assert.equal(incident?.raisedEdgeTime, event.edgeTime);
      assert.equal(incident?.firstEventId, event.id);
    });

    test('raises correlate into the open incident, more urgent level wins, clear closes it', async () => {
      // No acknowledgement required at any level: the clear closes (the ack policy has its own tests).
      const noAck: EngineOptions = { ...DEFAULT_ENGINE, ackPolicy: { levels: { 1: false, 2: false, 3: false, 4: false, 5: false }, types: {} } };
      const opened = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 2, { deviceId: 'gas-07', alarmType: 'gas_high', level: 3 })], noAck),
      );
      const id = opened.incidents[0]?.id;
      assert.equal(typeof id, 'number');
      const more = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 3, { deviceId: 'gas-07', alarmType: 'gas_high', level: 1, reason: 'LEL 40%' })], noAck),
      );
      assert.equal(more.incidents[0]?.id, id);
      assert.equal(more.incidents[0]?.occurrences, 2);
      assert.equal(more.incidents[0]?.level, 1);
      assert.equal(more.incidents[0]?.reason, 'LEL 40%');
      const cleared = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 4, { deviceId: 'gas-07', alarmType: 'gas_high', action: 'clear', level: 5 })], noAck),
      );
      assert.equal(cleared.incidents[0]?.status, 'cleared');
      assert.equal(typeof cleared.incidents[0]?.clearedAt, 'number');
      // After the clear a new raise opens a new incident.
      const again = await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 5, { deviceId: 'gas-07', alarmType: 'gas_high' })], noAck));
      assert.notEqual(again.incidents[0]?.id, id);
      const linked = await store.query<{ incident_id: string }>("SELECT incident_id FROM events WHERE event_id = 'gw-store:4'");
      assert.equal(Number(linked[0]?.incident_id), id);
    });

    // Issue 5: routing, correlation, flood, chattering, lifecycle, deadlines and the queue.
    let seq = 100;
    const engine: EngineOptions = { deadlines: DEFAULT_DEADLINES, autoCloseTypes: ['smoke'] };
    const raise = async (overrides: Partial<AlarmEvent>): Promise<{ incident: Incident; outcome: Outcome }> => {
      const outcome = new Outcome();
      const result = await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, ++seq, overrides)], engine, outcome));
      assert.equal(result.incidents.length >= 1, true, 'the raise touched an incident');
      const id = await store.query<{ incident_id: string }>('SELECT incident_id FROM events WHERE event_id = $1', [`${gateway.gatewayId}:${seq}`]);
      const incident = await getIncident(store, Number(id[0]?.incident_id));
      return { incident: incident!, outcome };
    };
    const act = (id: number, action: Action, unitId?: string): Promise<Incident> =>
      store.transaction((tx) => applyAction(tx, id, { action, actor: 'staff-7', note: `${action} note`, source: 'test', ...(unitId ? { unitId } : {}) }, engine, new Outcome()));

    test('address book, units and rules import from CSV; a smoke alarm goes to its grid, level-1 gas to the fire station', async () => {
      assert.equal(await store.transaction((tx) => importAddressesCsv(tx, fixture('addresses.csv'))), 7);
      assert.equal(await store.transaction((tx) => importUnitsCsv(tx, fixture('units.csv'))), 8);
      assert.equal(await store.transaction((tx) => importRulesCsv(tx, fixture('rules.csv'))), 2);
      const quoted = await store.query<{ room: string }>("SELECT room FROM addresses WHERE address_id = 'FT-0003-0101'");
      assert.equal(quoted[0]?.room, '101, rear');
      await assert.rejects(store.transaction((tx) => importUnitsCsv(tx, 'id,name,type,tier,area\nx,X,grid_worker,planet,P\n')), /line 2: tier must be one of/);
      await assert.rejects(store.transaction((tx) => importAddressesCsv(tx, 'address_id,building\nA,B\n')), /missing column grid/);

      const { incident, outcome } = await raise({ deviceId: 'smoke-b2', addressId: 'FT-0002-0101', level: 2 });
      assert.equal(incident.status, 'dispatched');
      assert.equal(incident.tier, 'grid');
      assert.equal(incident.unitId, 'grid-g02');
      assert.equal(incident.building, 'FT-B002');
      assert.deepEqual(outcome.dispatches.map((d) => [d.unitId, d.kind]), [['grid-g02', 'dispatch']]);
      const bound = await store.query<{ address_id: string }>("SELECT address_id FROM devices WHERE gateway_id = 'gw-store' AND device_id = 'smoke-b2'");
      assert.equal(bound[0]?.address_id, 'FT-0002-0101', 'the device is bound to the address it reported');
      const deadlines = await store.query<{ kind: string; secs: number }>(
        'SELECT kind, round(extract(epoch FROM due_at - now()))::int AS secs FROM deadlines WHERE incident_id = $1',
        [incident.id],
      );
      assert.equal(deadlines.length, 1);
      assert.equal(deadlines[0]?.kind, 'ack');
      assert.ok(Math.abs((deadlines[0]?.secs ?? 0) - 120) <= 2, 'level 2 acknowledge deadline: 120 s');

      const gas = await raise({ deviceId: 'gas-b3', alarmType: 'gas_high', addressId: 'FT-0003-0101', level: 1 });
      assert.equal(gas.incident.unitId, 'fire-s01');
      assert.equal(gas.incident.tier, 'street');
    });

    test('two devices in one building within 2 minutes join one incident, one level more urgent', async () => {
      const first = await raise({ deviceId: 'smoke-b1-a', addressId: 'FT-0001-0203', level: 3 });
      assert.equal(first.incident.kind, 'device');
      const second = await raise({ deviceId: 'smoke-b1-b', addressId: 'FT-0001-0501', level: 3 });
      assert.equal(second.incident.id, first.incident.id);
      assert.equal(second.incident.kind, 'correlated');
      assert.equal(second.incident.deviceCount, 2);
      assert.equal(second.incident.level, 2);
      const third = await raise({ deviceId: 'smoke-b1-c', addressId: 'FT-0001-0501', level: 3 });
      assert.equal(third.incident.id, first.incident.id);
      assert.equal(third.incident.level, 2, 'the level rises once, not per device');
      const again = await raise({ deviceId: 'smoke-b1-b', addressId: 'FT-0001-0501', level: 3 });
      assert.equal(again.incident.occurrences, 4, 'a repeat from a joined device is one more occurrence');
      assert.ok((await auditTrail(store, first.incident.id)).some((a) => a.action === 'correlate'));
    });

    test('a clear closes only the configured types', async () => {
      const gas = await raise({ deviceId: 'gas-x', alarmType: 'gas_high', level: 3 });
      await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, ++seq, { deviceId: 'gas-x', alarmType: 'gas_high', action: 'clear' })], engine));
      const kept = await getIncident(store, gas.incident.id);
      assert.equal(kept?.open, true, 'gas_high is not auto-closed');
      assert.notEqual(kept?.clearedAt, null, 'the device clear is recorded');
      const smoke = await raise({ deviceId: 'smoke-x', level: 3 });
      await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, ++seq, { deviceId: 'smoke-x', action: 'clear' })], engine));
      assert.equal((await getIncident(store, smoke.incident.id))?.status, 'cleared');
    });

    test('a chattering source is recorded, not dispatched', async () => {
      let last: Incident | null = null;
      for (let i = 0; i < 5; i += 1) {
        // Level 3: no acknowledgement required, so each clear closes and the next raise opens anew.
        last = (await raise({ deviceId: 'smoke-chat', addressId: undefined, level: 3 })).incident;
        await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, ++seq, { deviceId: 'smoke-chat', action: 'clear', addressId: undefined, level: 3 })], engine));
      }
      assert.equal(last?.chattering, true);
      assert.equal(last?.dispatchable, false);
      assert.equal(last?.status, 'raised');
    });

    test('more than 10 alarms in 10 minutes in one community fold into one grouped notice', async () => {
      const rows = Array.from({ length: 13 }, (_, i) => `FL-${i},FL-B${i},1,1,101,FL-G01,FL-C09,FT-S01,FT,,`);
      await store.transaction((tx) => importAddressesCsv(tx, `address_id,building,unit,floor,room,grid,community,street,district,lat,lon\n${rows.join('\n')}\n`));
      const incidents: Incident[] = [];
      for (let i = 0; i < 13; i += 1) incidents.push((await raise({ deviceId: `smoke-fl-${i}`, addressId: `FL-${i}`, level: 3 })).incident);
      assert.ok(incidents.slice(0, 10).every((i) => i.groupId === null && i.dispatchable));
      const grouped = incidents.slice(10);
      assert.ok(grouped.every((i) => i.groupId !== null && !i.dispatchable), 'the 11th alarm on is recorded under the notice');
      assert.equal(new Set(grouped.map((i) => i.groupId)).size, 1, 'one notice');
      const notice = await getIncident(store, grouped[0]!.groupId!);
      assert.equal(notice?.kind, 'flood');
      assert.equal(notice?.community, 'FL-C09');
      assert.equal(notice?.occurrences, 3);
      assert.equal(notice?.tier, 'street', 'no unit at grid or community of FL-C09: the notice goes to the street');
    });

    test('lifecycle: every transition is audited, deadlines follow, an illegal one is refused', async () => {
      const { incident } = await raise({ deviceId: 'smoke-life', addressId: 'FT-0004-0101', alarmType: 'water_leak', level: 4 });
      assert.equal(incident.status, 'dispatched');
      await assert.rejects(act(incident.id, 'close'), (err: unknown) => err instanceof TransitionError && err.kind === 'conflict' && /close is not allowed while the incident is dispatched/.test(err.message));
      await assert.rejects(act(999_999, 'acknowledge'), (err: unknown) => err instanceof TransitionError && err.kind === 'not_found');
      assert.equal((await act(incident.id, 'acknowledge')).status, 'acknowledged');
      const open = await store.query<{ kind: string }>('SELECT kind FROM deadlines WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL', [incident.id]);
      assert.deepEqual(open.map((d) => d.kind), ['on_site']);
      assert.equal((await act(incident.id, 'on_site')).status, 'on_site');
      await act(incident.id, 'note');
      assert.equal((await act(incident.id, 'resolve')).status, 'resolved');
      const closed = await act(incident.id, 'close');
      assert.equal(closed.status, 'closed');
      assert.equal(closed.open, false);
      const trail = await auditTrail(store, incident.id);
      assert.deepEqual(
        trail.map((a) => [a.action, a.fromStatus, a.toStatus]),
        [
          ['raise', null, 'raised'],
          ['dispatch', 'raised', 'dispatched'],
          ['acknowledge', 'dispatched', 'acknowledged'],
          ['on_site', 'acknowledged', 'on_site'],
          ['note', 'on_site', 'on_site'],
          ['resolve', 'on_site', 'resolved'],
          ['close', 'resolved', 'closed'],
        ],
      );
      assert.ok(trail.slice(2).every((a) => a.actor === 'staff-7' && a.source === 'test' && a.note !== ''));
      const left = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM deadlines WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL', [incident.id]);
      assert.equal(left[0]?.n, 0);
    });

    test('a missed deadline escalates one step up the ladder, exactly once however many tickers race', async () => {
      const { incident } = await raise({ deviceId: 'smoke-esc', addressId: 'FT-0005-0101', alarmType: 'heat', level: 2 });
      assert.equal(incident.unitId, 'grid-g02');
      const steps: [string | null, string | null][] = [];
      for (let round = 0; round < 4; round += 1) {
        await store.query("UPDATE deadlines SET due_at = now() - interval '1 second' WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL", [incident.id]);
        const results = await Promise.all([1, 2, 3, 4].map(() => fireDueDeadlines(store, engine, new Outcome())));
        const fired = results.flat().filter((f) => f.incidentId === incident.id);
        assert.equal(fired.length, 1, `round ${round}: one firing among four racing tickers`);
        const now = await getIncident(store, incident.id);
        steps.push([fired[0]!.escalatedTo, now!.unitId]);
      }
      assert.deepEqual(steps, [
        ['community', 'comm-c01'],
        ['street', 'street-s01'],
        ['district', 'district-ft'],
        [null, 'district-ft'],
      ]);
      assert.equal((await getIncident(store, incident.id))?.escalations, 3);
      const audits = await store.query<{ n: number; d: number }>(
        "SELECT count(*)::int AS n, count(DISTINCT deadline_id)::int AS d FROM incident_audit WHERE incident_id = $1 AND source = 'deadline'",
        [incident.id],
      );
      assert.deepEqual(audits[0], { n: 4, d: 4 });
    });

    test('dispatch queue: a lease that runs out redelivers; a stale lease cannot ack; nacks end in the dead letters', async () => {
      const { consumer, apiKey } = await addConsumer(store, { id: 'centre-ft', name: 'Futian centre', units: ['grid-g02'] });
      assert.match(apiKey, /^gwd_centre-ft_/);
      const stored = await store.query<{ key_hash: string }>("SELECT key_hash FROM dispatch_consumers WHERE id = 'centre-ft'");
      assert.notEqual(stored[0]?.key_hash, apiKey, 'only the hash is stored');
      const { incident } = await raise({ deviceId: 'smoke-q', addressId: 'FT-0006-0101', alarmType: 'co_high', level: 2 });
      const [first, ...none] = await claim(store, consumer.id, 10, 1);
      assert.equal(none.length, 0);
      assert.equal(first?.incidentId, incident.id);
      assert.equal(first?.incident.unitId, 'grid-g02');
      assert.deepEqual(await claim(store, consumer.id, 10, 1), [], 'leased: not handed out twice');
      await delay(1100);
      const [again] = await claim(store, consumer.id, 10, 30);
      assert.equal(again?.id, first!.id, 'redelivered after the lease');
      assert.equal(again?.deliveries, 2);
      assert.equal(await ackMessage(store, consumer.id, first!.id, first!.leaseToken!), 'lease_lost');
      assert.equal(await ackMessage(store, consumer.id, again!.id, again!.leaseToken!), 'ok');
      assert.deepEqual(await claim(store, consumer.id, 10, 30), []);

      await act(incident.id, 'acknowledge');
      const [update] = await claim(store, consumer.id, 10, 30);
      assert.equal(update?.kind, 'update');
      assert.equal(await nackMessage(store, consumer.id, update!.id, update!.leaseToken!, 0, 2, 'printer on fire'), 'ok');
      const [retry] = await claim(store, consumer.id, 10, 30);
      assert.equal(retry?.id, update!.id);
      assert.equal(await nackMessage(store, consumer.id, retry!.id, retry!.leaseToken!, 0, 2, 'still on fire'), 'ok');
      assert.deepEqual(await claim(store, consumer.id, 10, 30), []);
      const dead = await deadMessages(store, consumer.id);
      assert.deepEqual(dead.map((m) => [m.id, m.attempts, m.lastError]), [[update!.id, 2, 'still on fire']]);
    });
  });
}

storeSuite('PGlite store', () => PgliteStore.open('memory://'));

let db: TempDatabase | null = null;
storeSuite(
  'PostgreSQL store',
  async () => {
    db = await createTempDatabase();
    return PostgresStore.open(db.url, () => {});
  },
  async () => {
    await db?.drop();
  },
);
