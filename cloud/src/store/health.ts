// Is the database answering? For /healthz; a failure is the caller's to report.
import type { Queryable } from './store.ts';

export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
