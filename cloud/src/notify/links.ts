// Signed acknowledge links: `<jti>.<expires>.<incident>.<mac>` where mac = base64url
// HMAC-SHA256(key, "jti.expires.incident"). The signature proves the cloud issued it (no login
// needed), the expiry bounds how long a forwarded SMS stays useful, and the notify_links row makes
// it single-use: the first action sets used_at, any later one is refused.
import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '@gridwatch/protocol';
import type { Queryable } from '../store/store.ts';

export interface LinkClaims {
  jti: string;
  incidentId: number;
  expiresAt: number;
}

export type LinkRefusal = 'malformed' | 'signature' | 'expired' | 'used' | 'unknown';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(readonly reason: LinkRefusal) {
    super(`acknowledge link refused: ${reason}`);
  }
}

function mac(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

export function signLink(key: string, claims: LinkClaims): string {
  const body = `${claims.jti}.${claims.expiresAt}.${claims.incidentId}`;
  return `${body}.${mac(key, body)}`;
}

/** Checks form, signature and expiry (not use: that needs the database, see useLink). */
export function verifyLink(key: string, token: string, now: number): LinkClaims {
  const parts = token.split('.');
  if (parts.length !== 4 || !/^[A-Za-z0-9_-]{16,64}$/.test(parts[0] ?? '') || !/^\d{1,15}$/.test(parts[1] ?? '') || !/^\d{1,15}$/.test(parts[2] ?? '')) throw new LinkError('malformed');
  const [jti = '', expires = '', incident = '', signature = ''] = parts;
  if (!constantTimeEqual(signature, mac(key, `${jti}.${expires}.${incident}`))) throw new LinkError('signature');
  if (Number(expires) <= now) throw new LinkError('expired');
  return { jti, incidentId: Number(incident), expiresAt: Number(expires) };
}

export interface IssueInput {
  incidentId: number;
  personId: string;
  channel: string;
  ttlMs: number;
  now: number;
}

export async function issueLink(tx: Queryable, key: string, input: IssueInput): Promise<string> {
  const claims = { jti: randomBytes(12).toString('base64url'), incidentId: input.incidentId, expiresAt: input.now + input.ttlMs };
  await tx.query('INSERT INTO notify_links (jti, incident_id, person_id, channel, expires_at) VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0))', [
    claims.jti,
    input.incidentId,
    input.personId,
    input.channel,
    claims.expiresAt,
  ]);
  return signLink(key, claims);
}

export interface LinkHolder {
  personId: string;
  channel: string;
  usedAt: number | null;
}

export async function linkHolder(db: Queryable, claims: LinkClaims): Promise<LinkHolder> {
  const rows = await db.query<{ person_id: string; channel: string; used_at: Date | string | null }>('SELECT person_id, channel, used_at FROM notify_links WHERE jti = $1 AND incident_id = $2', [
    claims.jti,
    claims.incidentId,
  ]);
  const row = rows[0];
  if (!row) throw new LinkError('unknown');
  return { personId: row.person_id, channel: row.channel, usedAt: row.used_at === null ? null : new Date(row.used_at).getTime() };
}

/** Marks the link used by `action`; throws LinkError('used') when it already was (single use). */
export async function useLink(tx: Queryable, claims: LinkClaims, action: string): Promise<LinkHolder> {
  const rows = await tx.query<{ person_id: string; channel: string }>(
    'UPDATE notify_links SET used_at = now(), used_action = $3 WHERE jti = $1 AND incident_id = $2 AND used_at IS NULL RETURNING person_id, channel',
    [claims.jti, claims.incidentId, action],
  );
  const row = rows[0];
  if (!row) {
    await linkHolder(tx, claims);
    throw new LinkError('used');
  }
  return { personId: row.person_id, channel: row.channel, usedAt: Date.now() };
}
