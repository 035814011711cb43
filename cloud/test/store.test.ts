// One suite, every Store backend (CONVENTIONS.md #9): PGlite and PostgreSQL must behave alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgliteStore } from '../src/store/pglite.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { migrate, loadMigrations } from '../src/store/migrate.ts';
import type { Store } from '../src/store/store.ts';
import { GatewayRegistry } from '../src/gateways/registry.ts';
import { applyEvents } from '../src/incidents/apply.ts';
import { getIncident } from '../src/incidents/incident.ts';
import { alarmEvent, createTempDatabase, type TempDatabase } from './helpers.ts';

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
      assert.deepEqual(results.flat().sort(), all.map((m) => m.version));
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
      assert.deepEqual(second, { inserted: [], duplicates: [event.id, event.id], incidents: [] });
      const events = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      assert.equal(events[0]?.n, 1);
      const incident = await getIncident(store, first.incidents[0]!.id);
      assert.equal(incident?.occurrences, 1);
      assert.equal(incident?.raisedEdgeTime, event.edgeTime);
      assert.equal(incident?.firstEventId, event.id);
    });

    test('raises correlate into the open incident, more urgent level wins, clear closes it', async () => {
      const opened = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 2, { deviceId: 'gas-07', alarmType: 'gas_high', level: 3 })]),
      );
      const id = opened.incidents[0]?.id;
      assert.equal(typeof id, 'number');
      const more = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 3, { deviceId: 'gas-07', alarmType: 'gas_high', level: 1, reason: 'LEL 40%' })]),
      );
      assert.equal(more.incidents[0]?.id, id);
      assert.equal(more.incidents[0]?.occurrences, 2);
      assert.equal(more.incidents[0]?.level, 1);
      assert.equal(more.incidents[0]?.reason, 'LEL 40%');
      const cleared = await store.transaction((tx) =>
        applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 4, { deviceId: 'gas-07', alarmType: 'gas_high', action: 'clear', level: 5 })]),
      );
      assert.equal(cleared.incidents[0]?.status, 'cleared');
      assert.equal(typeof cleared.incidents[0]?.clearedAt, 'number');
      // After the clear a new raise opens a new incident.
      const again = await store.transaction((tx) => applyEvents(tx, gateway, [alarmEvent(gateway.gatewayId, 5, { deviceId: 'gas-07', alarmType: 'gas_high' })]));
      assert.notEqual(again.incidents[0]?.id, id);
      const linked = await store.query<{ incident_id: string }>("SELECT incident_id FROM events WHERE event_id = 'gw-store:4'");
      assert.equal(Number(linked[0]?.incident_id), id);
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
