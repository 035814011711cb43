// Gateways known to this deployment, their credentials and lifecycle. The database is the truth:
// verify() reads the row on every CONNECT (the keyed hash makes that cheap), so no replica ever
// checks a stale hash. lookup() (ingest's per-message check) keeps a small cache that every change
// notification clears. Every change sends NOTIFY `gridwatch_gateways` in its own transaction, so
// each replica's broker closes sessions of an old secret or a disabled gateway (see change-feed.ts).
import { isIdSegment, randomSecret } from '@gridwatch/protocol';
import type { Queryable, Store } from '../store/store.ts';
import { checkSecret, hashSecret, loadPepper } from './secret.ts';

export interface GatewayRecord {
  gatewayId: string;
  site: string;
}

/** A verified gateway login: the record plus the secret version it authenticated with. */
export interface GatewayLogin extends GatewayRecord {
  secretVersion: number;
}

export interface NewGateway extends GatewayRecord {
  secret: string;
}

export const LIFECYCLES = ['active', 'disabled', 'removed'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

/** What a broker needs to decide whether an open session may stay. */
export interface SessionState {
  site: string;
  secretVersion: number;
  lifecycle: Lifecycle;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
}

interface GatewayRow {
  id: string;
  site: string;
  secret_hash: string;
  secret_version: number;
  lifecycle: Lifecycle;
}

/** Shortest secret accepted: gateways are reachable from the internet through the broker. */
export const MIN_SECRET_LENGTH = 12;

export const GATEWAY_CHANNEL = 'gridwatch_gateways';

const ID_RULE = 'expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit';

function validate(gateway: NewGateway): void {
  if (!isIdSegment(gateway.gatewayId)) throw new GatewayError(`gatewayId: ${ID_RULE}`);
  if (!isIdSegment(gateway.site)) throw new GatewayError(`site: ${ID_RULE}`);
  if (gateway.secret.length < MIN_SECRET_LENGTH) throw new GatewayError(`secret: expected at least ${MIN_SECRET_LENGTH} characters`);
}

/** Delivered to every listener when `tx` commits (PostgreSQL NOTIFY semantics). */
async function notifyChange(tx: Queryable, gatewayId: string): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [GATEWAY_CHANNEL, gatewayId]);
}

/** A secret just set (not necessarily committed yet: compare secretVersion with the row). */
export interface SecretSet extends GatewayRecord {
  secret: string;
  secretVersion: number;
}

export interface RegistryOptions {
  /** Configured pepper of the gateway-secret hash; null/absent = the one kept in the database. */
  pepper?: string | null;
}

export class GatewayRegistry {
  private readonly cache = new Map<string, GatewayRecord>();
  private pepper: Promise<Buffer> | null = null;
  private readonly secretListeners = new Set<(set: SecretSet) => void>();

  constructor(
    private readonly store: Store,
    private readonly options: RegistryOptions = {},
  ) {}

  /**
   * Hears every secret this process sets, in plain text, so an external broker's own credential
   * store (Mosquitto dynamic security) can be given it; returns the unsubscribe function.
   */
  onSecret(listener: (set: SecretSet) => void): () => void {
    this.secretListeners.add(listener);
    return () => this.secretListeners.delete(listener);
  }

  private secretSet(set: SecretSet): void {
    for (const listener of this.secretListeners) listener(set);
  }

  /**
   * Loads the pepper now. Call before the first setSecret inside a transaction: the pepper is read
   * (or created) on the store's own connection, which PGlite's single connection cannot give while
   * a transaction holds it.
   */
  async prepare(): Promise<void> {
    await this.key();
  }

  private key(): Promise<Buffer> {
    this.pepper ??= loadPepper(this.store, this.options.pepper ?? null);
    return this.pepper;
  }

  async addGateway(gateway: NewGateway): Promise<GatewayRecord> {
    validate(gateway);
    const secretHash = hashSecret(gateway.secret, await this.key());
    const rows = await this.store.query<GatewayRow>(
      `INSERT INTO gateways (id, site, secret_hash) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING RETURNING id, site, secret_version`,
      [gateway.gatewayId, gateway.site, secretHash],
    );
    const row = rows[0];
    if (!row) throw new GatewayError(`gatewayId: ${gateway.gatewayId} already exists`);
    await notifyChange(this.store, row.id);
    this.secretSet({ gatewayId: row.id, site: row.site, secret: gateway.secret, secretVersion: Number(row.secret_version) });
    return { gatewayId: row.id, site: row.site };
  }

  /**
   * Registers the gateway, or gives an existing one (of the same site) a new secret and version:
   * sessions of the old secret are closed on every replica when `tx` commits. Runs on `tx` when
   * given, so enrollment consumes its token and sets the secret in one transaction.
   */
  async setSecret(gateway: NewGateway, tx: Queryable = this.store): Promise<GatewayRecord & { created: boolean }> {
    validate(gateway);
    const secretHash = hashSecret(gateway.secret, await this.key());
    const rows = await tx.query<GatewayRow & { created: boolean }>(
      `INSERT INTO gateways (id, site, secret_hash) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, secret_version = gateways.secret_version + 1
       WHERE gateways.site = EXCLUDED.site AND gateways.lifecycle <> 'removed'
       RETURNING id, site, secret_version, (xmax = 0) AS created`,
      [gateway.gatewayId, gateway.site, secretHash],
    );
    const row = rows[0];
    if (!row) {
      const existing = await tx.query<{ site: string; lifecycle: string }>('SELECT site, lifecycle FROM gateways WHERE id = $1', [gateway.gatewayId]);
      if (existing[0]?.lifecycle === 'removed') throw new GatewayError(`gatewayId: ${gateway.gatewayId} was removed`);
      throw new GatewayError(`site: gateway ${gateway.gatewayId} belongs to site ${existing[0]?.site ?? '?'}, not ${gateway.site}`);
    }
    await notifyChange(tx, row.id);
    this.cache.delete(row.id);
    this.secretSet({ gatewayId: row.id, site: row.site, secret: gateway.secret, secretVersion: Number(row.secret_version) });
    return { gatewayId: row.id, site: row.site, created: row.created };
  }

  /** A new random secret (shown once); the old one stops working on every replica. */
  async rotate(gatewayId: string): Promise<GatewayRecord & { secret: string; secretVersion: number }> {
    const secret = randomSecret();
    const secretHash = hashSecret(secret, await this.key());
    const row = await this.store.transaction(async (tx) => {
      const rows = await tx.query<GatewayRow>(
        `UPDATE gateways SET secret_hash = $2, secret_version = secret_version + 1
         WHERE id = $1 AND lifecycle <> 'removed' RETURNING id, site, secret_version`,
        [gatewayId, secretHash],
      );
      if (rows[0]) await notifyChange(tx, gatewayId);
      return rows[0];
    });
    if (!row) throw new GatewayError(`gatewayId: ${gatewayId} not found`);
    this.cache.delete(gatewayId);
    const rotated = { gatewayId: row.id, site: row.site, secret, secretVersion: Number(row.secret_version) };
    this.secretSet(rotated);
    return rotated;
  }

  /**
   * disable: refused at CONNECT and its sessions closed, until enabled again. remove: for good; the
   * row stays (incidents refer to it) with its secret wiped.
   */
  async setLifecycle(gatewayId: string, lifecycle: Lifecycle): Promise<GatewayRecord & { lifecycle: Lifecycle }> {
    const row = await this.store.transaction(async (tx) => {
      const rows = await tx.query<GatewayRow>(
        `UPDATE gateways SET lifecycle = $2, secret_hash = CASE WHEN $2 = 'removed' THEN '' ELSE secret_hash END
         WHERE id = $1 AND (lifecycle <> 'removed' OR $2 = 'removed') RETURNING id, site, lifecycle`,
        [gatewayId, lifecycle],
      );
      if (rows[0]) await notifyChange(tx, gatewayId);
      return rows[0];
    });
    if (!row) throw new GatewayError(`gatewayId: ${gatewayId} not found${lifecycle === 'removed' ? '' : ' (or removed)'}`);
    this.cache.delete(gatewayId);
    return { gatewayId: row.id, site: row.site, lifecycle: row.lifecycle };
  }

  /** Active gateways only: a disabled or removed gateway's messages are refused like an unknown one's. */
  async lookup(gatewayId: string): Promise<GatewayRecord | null> {
    const cached = this.cache.get(gatewayId);
    if (cached) return cached;
    const rows = await this.store.query<GatewayRow>("SELECT id, site FROM gateways WHERE id = $1 AND lifecycle = 'active'", [gatewayId]);
    const row = rows[0];
    if (!row) return null;
    const record = { gatewayId: row.id, site: row.site };
    this.cache.set(row.id, record);
    return record;
  }

  /** Called by the change feed: the next lookup reads the row again. */
  forget(gatewayId: string): void {
    this.cache.delete(gatewayId);
  }

  async sessionState(gatewayId: string): Promise<SessionState | null> {
    const rows = await this.store.query<GatewayRow>('SELECT site, secret_version, lifecycle FROM gateways WHERE id = $1', [gatewayId]);
    const row = rows[0];
    return row ? { site: row.site, secretVersion: Number(row.secret_version), lifecycle: row.lifecycle } : null;
  }

  /** The login when the secret matches an active gateway, else null (unknown id and wrong secret look alike). */
  async verify(gatewayId: string, secret: string): Promise<GatewayLogin | null> {
    const rows = await this.store.query<GatewayRow>('SELECT id, site, secret_hash, secret_version, lifecycle FROM gateways WHERE id = $1', [gatewayId]);
    const row = rows[0];
    const pepper = await this.key();
    if (!row || row.lifecycle !== 'active') {
      // Same work as a real check, so timing does not tell unknown or disabled ids apart.
      hashSecret(secret, pepper);
      return null;
    }
    const check = await checkSecret(secret, row.secret_hash, pepper);
    if (check === 'wrong') return null;
    if (check === 'ok_upgrade') {
      // Same secret, new hash format: no version change, so no session is closed.
      await this.store.query('UPDATE gateways SET secret_hash = $3 WHERE id = $1 AND secret_version = $2', [row.id, row.secret_version, hashSecret(secret, pepper)]);
    }
    return { gatewayId: row.id, site: row.site, secretVersion: Number(row.secret_version) };
  }
}
