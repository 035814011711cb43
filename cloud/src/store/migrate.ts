// Applies store/migrations/NNN_name.sql in order, each at most once, recorded in schema_migrations.
// Everything runs in one transaction under an advisory lock: two cloud processes starting together
// against one PostgreSQL serialise here, and a failed migration leaves no half-applied schema.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Arbitrary constant key for pg_advisory_xact_lock ("GWMIGRAT" as a number, fits in int8). */
const MIGRATION_LOCK_KEY = '4704087234110164564';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration ${file}: expected NNN_name.sql`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`migration ${file}: duplicate version ${version}`);
    migrations.push({ version, name: match[2] as string, sql: await readFile(path.join(dir, file), 'utf8') });
  }
  return migrations;
}

/** Returns the versions applied by this call (empty when the schema was already current). */
export async function migrate(store: Store, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  return store.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of all) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
