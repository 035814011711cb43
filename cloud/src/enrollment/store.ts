// One-time enrollment tokens. An admin issues a token for a gateway id and site; the agent
// exchanges it once, before it expires, for the gateway's own MQTT credential (a random secret,
// registered through the GatewayRegistry: a new gateway, or a rotated secret for an existing one).
// Only a SHA-256 of the token is stored; consuming it and setting the secret commit together, so a
// token is never spent without a credential, and two concurrent exchanges cannot both succeed.
import { createHash, randomBytes } from 'node:crypto';
import { isIdSegment } from '@gridwatch/protocol';
import { GatewayError, type GatewayRegistry } from '../gateways/registry.ts';
import type { Store } from '../store/store.ts';

/** Prefix that makes a leaked token recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'gwe_';
export const DEFAULT_TOKEN_TTL_S = 24 * 3600;
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;

export type EnrollFailure = 'unknown_token' | 'used_token' | 'expired_token';

export class EnrollmentError extends Error {
  override readonly name = 'EnrollmentError';
  constructor(
    message: string,
    readonly kind: EnrollFailure | 'bad_request' | 'refused',
  ) {
    super(message);
  }
}

export interface IssuedToken {
  token: string;
  gatewayId: string;
  site: string;
  /** ISO 8601. */
  expiresAt: string;
}

export interface Enrollment {
  gatewayId: string;
  site: string;
  username: string;
  password: string;
  /** True when the gateway was registered now, false when an existing gateway got a new secret. */
  created: boolean;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function issueToken(store: Store, gateways: GatewayRegistry, request: { gatewayId: string; site: string; ttlS?: number }, now = Date.now()): Promise<IssuedToken> {
  const { gatewayId, site } = request;
  const ttlS = request.ttlS ?? DEFAULT_TOKEN_TTL_S;
  if (!isIdSegment(gatewayId)) throw new EnrollmentError('gatewayId: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit', 'bad_request');
  if (!isIdSegment(site)) throw new EnrollmentError('site: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit', 'bad_request');
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_TOKEN_TTL_S) throw new EnrollmentError(`ttlS: expected integer 1..${MAX_TOKEN_TTL_S}`, 'bad_request');
  const existing = await gateways.lookup(gatewayId);
  if (existing && existing.site !== site) throw new EnrollmentError(`site: gateway ${gatewayId} belongs to site ${existing.site}, not ${site}`, 'bad_request');
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now + ttlS * 1000);
  await store.query('INSERT INTO enrollment_tokens (token_hash, gateway_id, site, expires_at) VALUES ($1, $2, $3, $4)', [hashToken(token), gatewayId, site, expiresAt]);
  return { token, gatewayId, site, expiresAt: expiresAt.toISOString() };
}

interface TokenRow {
  gateway_id: string;
  site: string;
  expires_at: Date | string;
  used_at: Date | string | null;
}

/** Exchanges a token for the gateway's credential; throws EnrollmentError (unknown, used, expired). */
export async function redeemToken(store: Store, gateways: GatewayRegistry, token: string, options: { expectGatewayId?: string; now?: number } = {}): Promise<Enrollment> {
  const now = options.now ?? Date.now();
  const tokenHash = hashToken(token);
  const password = randomBytes(24).toString('base64url');
  return store.transaction(async (tx) => {
    // Row lock: a concurrent exchange of the same token waits here, then sees used_at set.
    const rows = await tx.query<TokenRow>('SELECT gateway_id, site, expires_at, used_at FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE', [tokenHash]);
    const row = rows[0];
    if (!row) throw new EnrollmentError('token: not recognised', 'unknown_token');
    if (row.used_at !== null) throw new EnrollmentError('token: already used; ask for a new enrollment token', 'used_token');
    if (new Date(row.expires_at).getTime() <= now) throw new EnrollmentError('token: expired; ask for a new enrollment token', 'expired_token');
    // A token meant for another gateway is refused before it is spent, so the right one can use it.
    if (options.expectGatewayId !== undefined && options.expectGatewayId !== row.gateway_id) {
      throw new EnrollmentError(`gatewayId: this token enrolls gateway ${row.gateway_id}, not ${options.expectGatewayId}`, 'bad_request');
    }
    await tx.query('UPDATE enrollment_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, new Date(now)]);
    try {
      const gateway = await gateways.setSecret({ gatewayId: row.gateway_id, site: row.site, secret: password }, tx);
      return { gatewayId: gateway.gatewayId, site: gateway.site, username: gateway.gatewayId, password, created: gateway.created };
    } catch (err) {
      if (err instanceof GatewayError) throw new EnrollmentError(err.message, 'refused');
      throw err;
    }
  });
}
