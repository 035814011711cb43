// The HTTP server and the socket.io live feed on it. Replicas (a shared subscription group on an
// external broker) fan socket.io out through PostgreSQL; a single process needs no adapter.
import http from 'node:http';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Sessions } from '../auth/session.ts';
import type { CloudConfig } from '../config.ts';
import { LiveFeed } from '../console/live.ts';
import { consumerReach } from '../auth/consumer-scope.ts';
import { consumerForKey } from '../dispatch/consumers.ts';
import type { Store } from '../store/store.ts';
import type { Stops } from './stops.ts';

function adapterPool(config: CloudConfig, log: Logger, stops: Stops): pg.Pool | null {
  if (!(config.databaseUrl && config.brokerUrl && config.ingestShareGroup)) return null;
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 3 });
  pool.on('error', (err) => log.warn({ err }, 'socket.io adapter connection lost'));
  // The adapter's LISTEN client is checked out for good; its errors must not crash the process.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'socket.io adapter connection lost')));
  // The adapter may hold a LISTEN client it acquired while socket.io was closing; do not wait
  // for it forever (the process exits or the pool's clients are destroyed with the database).
  stops.push(() => Promise.race([pool.end(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]));
  return pool;
}

export function createLive(store: Store, sessions: Sessions, config: CloudConfig, log: Logger, stops: Stops): { server: http.Server; live: LiveFeed } {
  const server = http.createServer();
  const live = new LiveFeed(server, {
    adapterPool: adapterPool(config, log, stops),
    authenticate: async (key) => {
      const consumer = await consumerForKey(store, key);
      return consumer && { ...consumer, reach: await consumerReach(store, consumer) };
    },
    sessionUser: (token) => sessions.verify(token),
    openAccess: config.openAccess,
  });
  return { server, live };
}
