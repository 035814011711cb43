// Embedded PostgreSQL (WASM) for the one-command setup. PGlite is single-connection, so its own
// transaction() already serialises writers.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Queryable, SqlParam, Store } from './store.ts';
import { MEMORY_DATA_DIR } from '../config.ts';

function wrap(db: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
      const result = await db.query<R>(sql, [...params]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
  };
}

export class PgliteStore implements Store {
  readonly backend = 'pglite' as const;
  private readonly queryable: Queryable;

  private constructor(private readonly db: PGlite) {
    this.queryable = wrap(db);
  }

  /** `dataDir` is the cloud's data folder; the database lives in `${dataDir}/pglite`. */
  static async open(dataDir: string): Promise<PgliteStore> {
    if (dataDir === MEMORY_DATA_DIR) return new PgliteStore(await PGlite.create());
    const dir = path.resolve(dataDir, 'pglite');
    await mkdir(dir, { recursive: true });
    return new PgliteStore(await PGlite.create(dir));
  }

  query<R extends object>(sql: string, params?: readonly SqlParam[]): Promise<R[]> {
    return this.queryable.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.queryable.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(wrap(tx)));
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
