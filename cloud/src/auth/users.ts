// Console users: roles, jurisdictions and scrypt password hashes. A jurisdiction is a tier of the
// address book's ladder with its area code (`community:FT-C01`), or `*` for everywhere.
import { scryptHash, scryptVerify, type ScryptCost } from '@gridwatch/protocol';
import { TIERS, type Tier } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import { HashQueue } from './hash-queue.ts';

export const ROLES = ['dispatcher', 'community_staff', 'grid_worker', 'installer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may change an incident's state (installers read, and see test events). */
export const ACTING_ROLES: readonly Role[] = ['dispatcher', 'community_staff', 'grid_worker', 'admin'];

export type Jurisdiction = '*' | `${Tier}:${string}`;

export interface User {
  username: string;
  displayName: string;
  role: Role;
  jurisdictions: Jurisdiction[];
  sessionEpoch: number;
}

export interface NewUser {
  username: string;
  password: string;
  role: string;
  jurisdictions: string[];
  displayName?: string;
}

export class UserError extends Error {
  override readonly name = 'UserError';
}

// OWASP password storage cheat sheet: scrypt N=2^17, r=8, p=1.
const SCRYPT: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };

/** Shared by callers that pass no queue of their own (CLI, programmatic addUser). */
const DEFAULT_QUEUE = new HashQueue(2, 16);

/** `scrypt$N$r$p$salt$hash` (base64url), so the parameters can be raised later without breaking old hashes. */
export function hashPassword(password: string, queue: HashQueue = DEFAULT_QUEUE): Promise<string> {
  return queue.run(() => scryptHash(password, SCRYPT));
}

/** Throws HashQueueFull when the queue is full. */
export function verifyPassword(password: string, stored: string, queue: HashQueue = DEFAULT_QUEUE): Promise<boolean> {
  return queue.run(() => scryptVerify(password, stored));
}

export function parseJurisdiction(text: string): Jurisdiction {
  if (text === '*') return '*';
  const i = text.indexOf(':');
  const tier = text.slice(0, i);
  const area = text.slice(i + 1);
  if (i <= 0 || !(TIERS as readonly string[]).includes(tier) || !/^[A-Za-z0-9_.-]{1,64}$/.test(area)) {
    throw new UserError(`jurisdiction: expected ${TIERS.join('|')}:<area code> (e.g. community:FT-C01) or *, got "${text}"`);
  }
  return `${tier as Tier}:${area}`;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

interface UserRow {
  username: string;
  display_name: string;
  password_hash: string;
  role: Role;
  jurisdictions: string[];
  session_epoch: number;
}

function toUser(row: UserRow): User {
  return {
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    jurisdictions: row.jurisdictions as Jurisdiction[],
    sessionEpoch: Number(row.session_epoch),
  };
}

export function validateNewUser(input: NewUser): void {
  if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(input.username)) throw new UserError('username: expected 2-64 of a-z 0-9 . _ - (lower case)');
  if (input.password.length < 8) throw new UserError('password: at least 8 characters');
  if (!isRole(input.role)) throw new UserError(`role: expected one of ${ROLES.join(', ')}`);
  if (input.jurisdictions.length === 0) throw new UserError('jurisdiction: at least one (e.g. community:FT-C01, or * for dispatchers and admins)');
  input.jurisdictions.forEach(parseJurisdiction);
}

/** Creates the user; throws UserError when the input is invalid or the username is taken. */
export async function addUser(db: Queryable, input: NewUser): Promise<User> {
  validateNewUser(input);
  const hash = await hashPassword(input.password);
  const jurisdictions = input.jurisdictions.map(parseJurisdiction);
  const rows = await db.query<UserRow>(
    `INSERT INTO users (username, display_name, password_hash, role, jurisdictions) VALUES ($1, $2, $3, $4, $5::text[])
     ON CONFLICT (username) DO NOTHING RETURNING *`,
    [input.username, input.displayName ?? '', hash, input.role, `{${jurisdictions.map((j) => `"${j}"`).join(',')}}`],
  );
  if (!rows[0]) throw new UserError(`username: ${input.username} already exists`);
  return toUser(rows[0]);
}

export async function findUser(db: Queryable, username: string): Promise<User | null> {
  const rows = await db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
  return rows[0] ? toUser(rows[0]) : null;
}

/**
 * The user when the password matches; null otherwise. Unknown users cost the same: their password
 * is checked against a dummy hash of the same cost, through the same queue.
 */
export async function authenticate(db: Queryable, username: string, password: string, queue: HashQueue = DEFAULT_QUEUE): Promise<User | null> {
  const rows = await db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
  const row = rows[0];
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH, queue);
  return row && ok ? toUser(row) : null;
}

/** Invalidates every session token the user holds. */
export async function bumpSessionEpoch(db: Queryable, username: string): Promise<void> {
  await db.query('UPDATE users SET session_epoch = session_epoch + 1 WHERE username = $1', [username]);
}

// A fixed hash of a random password, verified for unknown usernames so timing does not reveal them.
const DUMMY_HASH = 'scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
