// Gateway changes (rotation, re-enrollment, disable, remove) reach every replica within the
// round trip of a PostgreSQL NOTIFY: each replica LISTENs on `gridwatch_gateways` on a dedicated
// connection (PGlite: its own single connection) and emits 'change' with the gateway id. After a
// lost LISTEN connection it emits 'resync', since notifications sent meanwhile are gone.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { GATEWAY_CHANNEL, type GatewayRegistry } from './registry.ts';

interface Listenable {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
}

function isListenable(store: Store): store is Store & Listenable {
  return typeof (store as Partial<Listenable>).listen === 'function';
}

const RECONNECT_MS = 1000;

export interface ChangeFeedOptions {
  store: Store;
  /** PostgreSQL URL of the store; null with PGlite. */
  databaseUrl: string | null;
  registry: GatewayRegistry;
  log: Logger;
}

export interface GatewayChangeEvents {
  change: [gatewayId: string];
  resync: [];
}

export class GatewayChangeFeed extends EventEmitter<GatewayChangeEvents> {
  private client: pg.Client | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly options: ChangeFeedOptions) {
    super();
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { store, databaseUrl } = this.options;
    if (databaseUrl === null) {
      if (!isListenable(store)) throw new Error('gateway change feed: the store cannot LISTEN');
      this.unlisten = await store.listen(GATEWAY_CHANNEL, (id) => this.deliver(id));
      return;
    }
    await this.connect(databaseUrl);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const { client, unlisten } = this;
    this.client = null;
    this.unlisten = null;
    if (unlisten) await unlisten().catch(() => undefined);
    if (client) await client.end().catch(() => undefined);
  }

  private deliver(gatewayId: string): void {
    this.options.registry.forget(gatewayId);
    this.emit('change', gatewayId);
  }

  private async connect(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    client.on('notification', (n) => {
      if (n.channel === GATEWAY_CHANNEL && n.payload) this.deliver(n.payload);
    });
    client.on('error', (err) => {
      this.options.log.warn({ err }, 'gateway change feed: LISTEN connection lost; reconnecting');
      void client.end().catch(() => undefined);
      this.scheduleReconnect(url);
    });
    await client.connect();
    await client.query(`LISTEN ${GATEWAY_CHANNEL}`);
    this.client = client;
  }

  private scheduleReconnect(url: string): void {
    this.client = null;
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect(url).then(
        () => this.emit('resync'),
        (err: unknown) => {
          this.options.log.warn({ err }, 'gateway change feed: reconnect failed');
          this.scheduleReconnect(url);
        },
      );
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
