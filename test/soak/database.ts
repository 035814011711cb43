// A fresh PostgreSQL database per soak run (as cloud/test/helpers.ts does for tests), migrated and
// with the soak's gateways registered before any cloud process starts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
// Only the store and the registry: the soak needs no more of the cloud in its own process.
import { GatewayRegistry } from '../../cloud/src/gateways/registry.ts';
import { openStore } from '../../cloud/src/store/open.ts';

export const ADMIN_URL = process.env.GRIDWATCH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface SoakGateway {
  gatewayId: string;
  site: string;
  secret: string;
}

export interface SoakDatabase {
  url: string;
  /** A client for the verification queries; closed by drop(). */
  client: pg.Client;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createSoakDatabase(gateways: readonly SoakGateway[]): Promise<SoakDatabase> {
  const name = `gw_soak_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const drop = () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  try {
    const store = await openStore({ databaseUrl: url.toString(), dataDir: 'memory://' }, pino({ level: 'silent' }));
    try {
      const registry = new GatewayRegistry(store);
      for (const g of gateways) await registry.addGateway(g);
    } finally {
      await store.close();
    }
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    return {
      url: url.toString(),
      client,
      drop: async () => {
        await client.end().catch(() => undefined);
        await drop();
      },
    };
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
}
