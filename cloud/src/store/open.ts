// Chooses the backend from configuration and brings its schema up to date.
import type { Logger } from 'pino';
import { migrate } from './migrate.ts';
import { PgliteStore } from './pglite.ts';
import { PostgresStore } from './postgres.ts';
import type { Store } from './store.ts';

/** What the store needs of the configuration: PostgreSQL when a URL is given, else PGlite in dataDir. */
export interface StoreOptions {
  databaseUrl: string | null;
  dataDir: string;
}

export async function openStore(config: StoreOptions, log: Logger): Promise<Store> {
  const store: Store = config.databaseUrl
    ? await PostgresStore.open(config.databaseUrl, (err) => log.warn({ err }, 'idle PostgreSQL connection lost'))
    : await PgliteStore.open(config.dataDir);
  try {
    const applied = await migrate(store);
    if (applied.length > 0) log.info({ backend: store.backend, applied }, 'migrations applied');
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
