// Session tokens: `v1.<payload>.<HMAC-SHA256>` (base64url), payload = { u: username, e: epoch,
// x: expiry ms }. Stateless, so any replica verifies them; the epoch in the users row revokes them
// at logout. Browsers carry the token in an HttpOnly SameSite=Lax cookie (no script can read it,
// cross-site POSTs do not send it); CLIs send it as `Authorization: Bearer`.
import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '@gridwatch/protocol';
import type { Queryable } from '../store/store.ts';
import { findUser, type User } from './users.ts';

export const SESSION_COOKIE = 'gridwatch_session';
export const SESSION_TTL_MS = 12 * 3600 * 1000;

/** The signing key: configured, else the one stored in auth_secrets (created on first use). */
export async function loadSessionKey(db: Queryable, configured: string | null): Promise<Buffer> {
  if (configured !== null) return Buffer.from(configured, 'utf8');
  await db.query('INSERT INTO auth_secrets (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [randomBytes(32).toString('base64url')]);
  const rows = await db.query<{ secret: string }>('SELECT secret FROM auth_secrets WHERE id = 1');
  return Buffer.from((rows[0] as { secret: string }).secret, 'base64url');
}

export class Sessions {
  constructor(
    private readonly db: Queryable,
    private readonly key: Buffer,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(user: User, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ u: user.username, e: user.sessionEpoch, x: now + this.ttlMs })).toString('base64url');
    return `v1.${payload}.${this.sign(`v1.${payload}`)}`;
  }

  /** The user the token belongs to, if it is authentic, unexpired and not logged out. */
  async verify(token: string, now = Date.now()): Promise<User | null> {
    const [version, payload, signature] = token.split('.');
    if (version !== 'v1' || !payload || !signature) return null;
    if (!constantTimeEqual(signature, this.sign(`v1.${payload}`))) return null;
    let claims: { u?: unknown; e?: unknown; x?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return null;
    }
    if (typeof claims.u !== 'string' || typeof claims.x !== 'number' || claims.x < now) return null;
    const user = await findUser(this.db, claims.u);
    return user && user.sessionEpoch === claims.e ? user : null;
  }
}

export function isSessionToken(token: string): boolean {
  return token.startsWith('v1.');
}

/** The session cookie's value from a Cookie header. */
export function sessionCookie(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return null;
}

export function setCookieHeader(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearCookieHeader(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
