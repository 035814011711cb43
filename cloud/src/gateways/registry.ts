// Gateways known to this deployment and their credentials. The database is the truth; the cache
// only holds gateways already seen, and a miss always goes to the database, so a gateway added by
// another process (or the CLI) can connect at once.
import { isIdSegment } from '@gridwatch/protocol';
import type { Queryable, Store } from '../store/store.ts';
import { hashSecret, verifySecret } from './secret.ts';

export interface GatewayRecord {
  gatewayId: string;
  site: string;
}

export interface NewGateway extends GatewayRecord {
  secret: string;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
}

interface GatewayRow {
  id: string;
  site: string;
  secret_hash: string;
}

/** Shortest secret accepted: gateways are reachable from the internet through the broker. */
export const MIN_SECRET_LENGTH = 12;

export class GatewayRegistry {
  private readonly cache = new Map<string, GatewayRow>();

  constructor(private readonly store: Store) {}

  async addGateway(gateway: NewGateway): Promise<GatewayRecord> {
    if (!isIdSegment(gateway.gatewayId)) throw new GatewayError(`gatewayId: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit`);
    if (!isIdSegment(gateway.site)) throw new GatewayError(`site: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit`);
    if (gateway.secret.length < MIN_SECRET_LENGTH) throw new GatewayError(`secret: expected at least ${MIN_SECRET_LENGTH} characters`);
    const secretHash = await hashSecret(gateway.secret);
    const rows = await this.store.query<GatewayRow>(
      `INSERT INTO gateways (id, site, secret_hash) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING RETURNING id, site, secret_hash`,
      [gateway.gatewayId, gateway.site, secretHash],
    );
    const row = rows[0];
    if (!row) throw new GatewayError(`gatewayId: ${gateway.gatewayId} already exists`);
    this.cache.set(row.id, row);
    return { gatewayId: row.id, site: row.site };
  }

  /**
   * Registers the gateway, or gives an existing one (of the same site) a new secret: the old secret
   * stops working at once in this process, and in others at their next failed check (see verify).
   * Runs on `tx` when given, so enrollment consumes its token and sets the secret in one transaction.
   */
  async setSecret(gateway: NewGateway, tx: Queryable = this.store): Promise<GatewayRecord & { created: boolean }> {
    if (!isIdSegment(gateway.gatewayId)) throw new GatewayError(`gatewayId: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit`);
    if (!isIdSegment(gateway.site)) throw new GatewayError(`site: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit`);
    if (gateway.secret.length < MIN_SECRET_LENGTH) throw new GatewayError(`secret: expected at least ${MIN_SECRET_LENGTH} characters`);
    const secretHash = await hashSecret(gateway.secret);
    const rows = await tx.query<GatewayRow & { created: boolean }>(
      `INSERT INTO gateways (id, site, secret_hash) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash WHERE gateways.site = EXCLUDED.site
       RETURNING id, site, secret_hash, (xmax = 0) AS created`,
      [gateway.gatewayId, gateway.site, secretHash],
    );
    const row = rows[0];
    if (!row) {
      const existing = await tx.query<{ site: string }>('SELECT site FROM gateways WHERE id = $1', [gateway.gatewayId]);
      throw new GatewayError(`site: gateway ${gateway.gatewayId} belongs to site ${existing[0]?.site ?? '?'}, not ${gateway.site}`);
    }
    // Not cached here: `tx` may still roll back. The next lookup reads the committed row.
    this.cache.delete(row.id);
    return { gatewayId: row.id, site: row.site, created: row.created };
  }

  async lookup(gatewayId: string): Promise<GatewayRecord | null> {
    const row = await this.row(gatewayId);
    return row ? { gatewayId: row.id, site: row.site } : null;
  }

  /** Returns the gateway when the secret matches, else null (unknown id and wrong secret look alike). */
  async verify(gatewayId: string, secret: string): Promise<GatewayRecord | null> {
    const cached = this.cache.has(gatewayId);
    let row = await this.row(gatewayId);
    if (!row) return null;
    if (await verifySecret(secret, row.secret_hash)) return { gatewayId: row.id, site: row.site };
    if (!cached) return null;
    // The secret may have been rotated (enrollment) by another process: check the database once more.
    this.cache.delete(gatewayId);
    row = await this.row(gatewayId);
    if (!row) return null;
    return (await verifySecret(secret, row.secret_hash)) ? { gatewayId: row.id, site: row.site } : null;
  }

  private async row(gatewayId: string): Promise<GatewayRow | null> {
    const cached = this.cache.get(gatewayId);
    if (cached) return cached;
    const rows = await this.store.query<GatewayRow>('SELECT id, site, secret_hash FROM gateways WHERE id = $1', [gatewayId]);
    const row = rows[0] ?? null;
    if (row) this.cache.set(row.id, row);
    return row;
  }
}
