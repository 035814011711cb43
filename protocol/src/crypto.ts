// Secret handling shared by edge and cloud: one constant-time compare, one scrypt format for human
// passwords (and legacy gateway secrets), one keyed fast hash for machine secrets.
//
// Why two hashes: a human password has little entropy, so each guess must cost a lot (scrypt,
// RFC 7914, memory-hard). A machine secret is 256 random bits: no guessing attack is feasible
// whatever the hash costs, so a gateway's CONNECT is verified with HMAC-SHA-256 keyed by a server
// "pepper" (microseconds instead of ~30 ms of scrypt), which lets 10,000 gateways reconnect in
// seconds. The pepper lives outside the gateways table (file or env), so a leaked table alone does
// not even allow an offline check of a short, operator-chosen secret.
import { createHash, createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Constant-time equality of two secrets. Both sides are hashed first, so neither the content nor
 * the length of the expected value leaks through timing.
 */
export function constantTimeEqual(given: string | Buffer | undefined | null, expected: string | Buffer): boolean {
  if (given === undefined || given === null) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A random secret for a machine (gateway, consumer key): 256 bits, base64url. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

const SCRYPT_KEY_LENGTH = 32;

function scryptKey(secret: string, salt: Buffer, keyLength: number, cost: ScryptCost): Promise<Buffer> {
  // maxmem must allow 128·N·r bytes (plus slack), else node refuses large N.
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => {
    scryptCallback(secret, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url): self-describing, so the cost can be raised later. */
export async function scryptHash(secret: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptKey(secret, salt, SCRYPT_KEY_LENGTH, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export function isScryptHash(stored: string): boolean {
  return stored.startsWith('scrypt$');
}

/** False for a wrong secret and for a malformed or foreign hash. */
export async function scryptVerify(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Number.isInteger(cost.N) || !Number.isInteger(cost.r) || !Number.isInteger(cost.p)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptKey(secret, Buffer.from(salt, 'base64url'), expected.length, cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** `hmac-sha256$<base64url>`: HMAC-SHA-256 of the secret under the pepper (see the header). */
export function pepperedHash(secret: string, pepper: Buffer): string {
  return `hmac-sha256$${createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url')}`;
}

export function isPepperedHash(stored: string): boolean {
  return stored.startsWith('hmac-sha256$');
}

export function pepperedVerify(secret: string, stored: string, pepper: Buffer): boolean {
  if (!isPepperedHash(stored)) return false;
  return constantTimeEqual(pepperedHash(secret, pepper), stored);
}
