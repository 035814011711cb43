// Migration 003 (enrollment) was added after 004 (users) had shipped: the runner applies any
// version not yet recorded, so a fresh database gets every version in order and a database that
// already ran 4 gets 3 on its next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMigrations, migrate } from '../src/store/migrate.ts';
import { PgliteStore } from '../src/store/pglite.ts';

test('a fresh database applies every migration, 003 included, in order', async () => {
  const store = await PgliteStore.open('memory://');
  try {
    const versions = (await loadMigrations()).map((m) => m.version);
    assert.deepEqual(versions.slice(0, 4), [1, 2, 3, 4]);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
    assert.deepEqual(await migrate(store), versions);
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
    const versions = all.map((m) => m.version);
    assert.deepEqual(await migrate(store, all.filter((m) => m.version !== 3)), versions.filter((v) => v !== 3));
    assert.deepEqual(await migrate(store, all), [3]);
    const rows = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => Number(r.version)), versions);
    await store.query("INSERT INTO enrollment_tokens (token_hash, gateway_id, site, expires_at) VALUES ('h', 'gw', 's', now())");
  } finally {
    await store.close();
  }
});
