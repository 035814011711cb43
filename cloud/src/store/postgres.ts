// PostgreSQL through a pg Pool: the production system of record, shared by any number of replicas.
import pg from 'pg';
import type { Queryable, SqlParam, Store } from './store.ts';

/** Per process; PostgreSQL's default max_connections (100) leaves room for ~8 replicas. */
const POOL_SIZE = 10;

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
      const result = await client.query<R & pg.QueryResultRow>(sql, [...params]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
  };
}

export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly connections = POOL_SIZE;
  private readonly queryable: Queryable;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {
    this.queryable = wrap(pool);
  }

  /** Connects once so a wrong URL fails at start-up, not at the first alarm. */
  static async open(connectionString: string, onIdleError: (err: Error) => void): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString, max: POOL_SIZE });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', onIdleError);
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool);
  }

  query<R extends object>(sql: string, params?: readonly SqlParam[]): Promise<R[]> {
    return this.queryable.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.queryable.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
