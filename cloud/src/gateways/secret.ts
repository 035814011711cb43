// Gateway secrets are stored as HMAC-SHA-256 under a server pepper (`hmac-sha256$…`): a machine
// secret is 256 random bits, so a slow hash adds no protection and would make a reconnect storm of
// 10,000 gateways cost minutes of CPU (see protocol/src/crypto.ts and docs/DESIGN.md). Hashes from
// before (salted scrypt, `scrypt$N$r$p$salt$hash`) still verify and are replaced on the first
// successful login.
import { randomBytes } from 'node:crypto';
import { isScryptHash, pepperedHash, pepperedVerify, scryptVerify } from '@gridwatch/protocol';
import type { Queryable } from '../store/store.ts';

export type SecretCheck = 'ok' | 'ok_upgrade' | 'wrong';

export function hashSecret(secret: string, pepper: Buffer): string {
  return pepperedHash(secret, pepper);
}

export async function checkSecret(secret: string, stored: string, pepper: Buffer): Promise<SecretCheck> {
  if (isScryptHash(stored)) return (await scryptVerify(secret, stored)) ? 'ok_upgrade' : 'wrong';
  return pepperedVerify(secret, stored, pepper) ? 'ok' : 'wrong';
}

const PEPPER_NAME = 'gateway_pepper';

/**
 * The configured pepper, else one kept in server_secrets (created on first use) so every replica
 * and restart agrees. Production should configure it (file or env): then a copy of the database
 * alone cannot be used to check guesses of an operator-chosen secret.
 */
export async function loadPepper(db: Queryable, configured: string | null): Promise<Buffer> {
  if (configured !== null) return Buffer.from(configured, 'utf8');
  await db.query('INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [PEPPER_NAME, randomBytes(32).toString('base64url')]);
  const rows = await db.query<{ secret: string }>('SELECT secret FROM server_secrets WHERE name = $1', [PEPPER_NAME]);
  return Buffer.from((rows[0] as { secret: string }).secret, 'base64url');
}
