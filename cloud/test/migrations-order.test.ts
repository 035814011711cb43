// Migration 003 (enrollment) was added after 004 (users) had shipped: the runner applies any
// version not yet recorded, so a fresh database gets 1, 2, 3, 4 and a database that already ran 4
// gets 3 on its next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMigrations, migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';

test('a fresh database applies every migration, 003 included, in order', async () => {
  const store = await PgliteStore.open('memory://');
  try {
    assert.deepEqual(await migrate(store), [1, 2, 3, 4]);
    assert.deepEqual(await migrate(store), []);
    await store.query("INSERT INTO enrollment_tokens (token_hash, gateway_id, site, expires_at) VALUES ('h', 'gw', 's', now())");
  } finally {
    await store.close();
  }
});

test('a database where 004 already ran gets 003 on the next start', async () => {
  const store = await PgliteStore.open('memory://');
  try {
    const all = await loadMigrations();
    assert.deepEqual(await migrate(store, all.filter((m) => m.version !== 3)), [1, 2, 4]);
    assert.deepEqual(await migrate(store, all), [3]);
    const rows = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => Number(r.version)), [1, 2, 3, 4]);
    await store.query("INSERT INTO enrollment_tokens (token_hash, gateway_id, site, expires_at) VALUES ('h', 'gw', 's', now())");
  } finally {
    await store.close();
  }
});
