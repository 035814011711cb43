// Embedded PostgreSQL (WASM) for the one-command setup. PGlite is single-connection, so its own
// transaction() already serialises writers; one process owns a data folder (pglite-lock.ts).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Queryable, SqlParam, Store } from './store.ts';
import { StoreLock } from './pglite-lock.ts';

/** The dataDir that keeps PGlite in memory (tests, one-shot runs). */
export const MEMORY_DATA_DIR = 'memory://';

export { lockHolder, StoreLockedError, type LockHolder } from './pglite-lock.ts';

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
  readonly connections = 1;
  private readonly queryable: Queryable;

  private constructor(
    private readonly db: PGlite,
    private readonly lock: StoreLock | null,
  ) {
    this.queryable = wrap(db);
  }

  /**
   * `dataDir` is the cloud's data folder; the database lives in `${dataDir}/pglite`. Throws
   * StoreLockedError while another live process has the folder open.
   */
  static async open(dataDir: string): Promise<PgliteStore> {
    if (dataDir === MEMORY_DATA_DIR) return new PgliteStore(await PGlite.create(), null);
    const dir = path.resolve(dataDir, 'pglite');
    await mkdir(dir, { recursive: true });
    const lock = StoreLock.acquire(dataDir);
    try {
      return new PgliteStore(await PGlite.create(dir), lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Tells other processes where this cloud's API answers (read by admin commands). */
  advertise(httpUrl: string): void {
    this.lock?.advertise({ httpUrl });
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

  /** LISTEN on this (single) connection; PostgreSQL replicas use a dedicated pg client instead. */
  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, onPayload);
    return () => (this.db.closed ? Promise.resolve() : unlisten());
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    this.lock?.release();
  }
}
