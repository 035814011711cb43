// The one database seam. PGlite (embedded) and PostgreSQL (pg Pool) implement it with the same
// SQL, so every query and migration is written once and the shared suite proves both backends.

export type SqlParam = string | number | boolean | null | Date;

export interface Queryable {
  /** One statement with $1… parameters; returns the rows. */
  query<R extends object>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Store extends Queryable {
  readonly backend: 'pglite' | 'postgres';
  /** Statements the backend runs at once (pool size; 1 for PGlite): bounds ingest's concurrency. */
  readonly connections?: number;
  /** Runs `fn` in one transaction on one connection; commits on resolve, rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
