// One-time enrollment tokens. An admin issues a token for a gateway id and site; the agent
// exchanges it once, before it expires, for the gateway's own MQTT credential (a random secret,
// registered through the GatewayRegistry: a new gateway, or a rotated secret for an existing one).
// Only a SHA-256 of the token is stored; consuming it and setting the secret commit together, so a
// token is never spent without a credential, and two concurrent exchanges cannot both succeed.
// A token may name the communities the gateway serves: redeeming it allows them (placement.ts) in
// the same transaction, so an enrolled gateway is placed from its first message (issue 11).
import { createHash, randomBytes } from 'node:crypto';
import { isIdSegment } from '@gridwatch/protocol';
import { allowCommunities, PlacementError } from '../gateways/placement.ts';
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
  /** Communities the gateway is allowed once it enrolls (may be empty). */
  communities: string[];
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
  /** Communities the token allowed (added to any the gateway had). */
  communities: string[];
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface TokenRequest {
  gatewayId: string;
  site: string;
  ttlS?: number;
  /** Communities the gateway may serve; each must have an address in the book. */
  communities?: string[];
}

async function checkCommunities(store: Store, communities: readonly string[]): Promise<void> {
  for (const community of communities) {
    const known = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM addresses WHERE community = $1', [community]);
    if ((known[0]?.n ?? 0) === 0) throw new EnrollmentError(`communities: ${community} has no address in the address book`, 'bad_request');
  }
}

export async function issueToken(store: Store, gateways: GatewayRegistry, request: TokenRequest, now = Date.now()): Promise<IssuedToken> {
  const { gatewayId, site } = request;
  const communities = [...new Set(request.communities ?? [])].sort();
  const ttlS = request.ttlS ?? DEFAULT_TOKEN_TTL_S;
  if (!isIdSegment(gatewayId)) throw new EnrollmentError('gatewayId: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit', 'bad_request');
  if (!isIdSegment(site)) throw new EnrollmentError('site: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit', 'bad_request');
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_TOKEN_TTL_S) throw new EnrollmentError(`ttlS: expected integer 1..${MAX_TOKEN_TTL_S}`, 'bad_request');
  const existing = await gateways.lookup(gatewayId);
  if (existing && existing.site !== site) throw new EnrollmentError(`site: gateway ${gatewayId} belongs to site ${existing.site}, not ${site}`, 'bad_request');
  await checkCommunities(store, communities);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now + ttlS * 1000);
  await store.query('INSERT INTO enrollment_tokens (token_hash, gateway_id, site, expires_at, communities) VALUES ($1, $2, $3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)))',
    [hashToken(token), gatewayId, site, expiresAt, JSON.stringify(communities)]);
  return { token, gatewayId, site, communities, expiresAt: expiresAt.toISOString() };
}

interface TokenRow {
  gateway_id: string;
  site: string;
  expires_at: Date | string;
  used_at: Date | string | null;
  communities: string[];
}

/** Exchanges a token for the gateway's credential; throws EnrollmentError (unknown, used, expired). */
export async function redeemToken(store: Store, gateways: GatewayRegistry, token: string, options: { expectGatewayId?: string; now?: number } = {}): Promise<Enrollment> {
  const now = options.now ?? Date.now();
  const tokenHash = hashToken(token);
  const password = randomBytes(24).toString('base64url');
  return store.transaction(async (tx) => {
    // Row lock: a concurrent exchange of the same token waits here, then sees used_at set.
    const rows = await tx.query<TokenRow>('SELECT gateway_id, site, expires_at, used_at, communities FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE', [tokenHash]);
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
      await allowCommunities(tx, gateway.gatewayId, row.communities);
      return { gatewayId: gateway.gatewayId, site: gateway.site, username: gateway.gatewayId, password, created: gateway.created, communities: row.communities };
    } catch (err) {
      if (err instanceof GatewayError || err instanceof PlacementError) throw new EnrollmentError(err.message, 'refused');
      throw err;
    }
  });
}
