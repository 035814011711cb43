// Dispatch consumers (a district's 分拨 centre, a fire station's system, Node-RED …) with their own
// credentials. The API key is shown once; only its SHA-256 is stored (32 random bytes need no
// slow hash). The webhook secret must stay readable to sign deliveries.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/store.ts';
import { DEFAULT_CHANNELS, type ChannelRegistry } from './channels/index.ts';

export interface Consumer {
  id: string;
  name: string;
  /** Unit ids whose incidents this consumer receives; '*' = every incident. */
  units: string[];
  webhookUrl: string | null;
}

export interface NewConsumer {
  id: string;
  name: string;
  units: string[];
  webhookUrl?: string | null;
}

export interface ConsumerCredentials {
  consumer: Consumer;
  apiKey: string;
  webhookSecret: string | null;
}

export class ConsumerError extends Error {
  override readonly name = 'ConsumerError';
}

export function hashKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

interface ConsumerRow {
  id: string;
  name: string;
  units: string[];
  webhook_url: string | null;
  webhook_secret?: string | null;
}

function toConsumer(row: ConsumerRow): Consumer {
  return { id: row.id, name: row.name, units: row.units, webhookUrl: row.webhook_url };
}

export async function addConsumer(db: Queryable, input: NewConsumer, channels: ChannelRegistry = DEFAULT_CHANNELS): Promise<ConsumerCredentials> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(input.id)) throw new ConsumerError('id: expected 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit');
  if (typeof input.name !== 'string' || input.name.trim() === '') throw new ConsumerError('name: expected a non-empty string');
  if (!Array.isArray(input.units) || input.units.length === 0 || !input.units.every((u) => typeof u === 'string' && /^[*]$|^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(u))) {
    throw new ConsumerError("units: expected a non-empty list of unit ids or '*'");
  }
  if (input.webhookUrl) {
    if (!URL.canParse(input.webhookUrl)) throw new ConsumerError('webhookUrl: not a URL');
    // The push target's scheme picks the delivery channel (channels/index.ts).
    if (!channels.forTarget(input.webhookUrl)) throw new ConsumerError(`webhookUrl: expected ${channels.schemes.join(' or ')}`);
  }
  const apiKey = `gwd_${input.id}_${randomBytes(32).toString('base64url')}`;
  const webhookSecret = input.webhookUrl ? randomBytes(32).toString('base64url') : null;
  const rows = await db.query<ConsumerRow>(
    `INSERT INTO dispatch_consumers (id, name, key_hash, units, webhook_url, webhook_secret) VALUES ($1, $2, $3, $4::text[], $5, $6)
     ON CONFLICT (id) DO NOTHING RETURNING id, name, units, webhook_url`,
    [input.id, input.name, hashKey(apiKey), `{${input.units.map((u) => `"${u}"`).join(',')}}`, input.webhookUrl ?? null, webhookSecret],
  );
  const row = rows[0];
  if (!row) throw new ConsumerError(`id: consumer ${input.id} already exists`);
  return { consumer: toConsumer(row), apiKey, webhookSecret };
}

/** The consumer owning this API key, or null. */
export async function consumerForKey(db: Queryable, apiKey: string): Promise<Consumer | null> {
  const rows = await db.query<ConsumerRow>('SELECT id, name, units, webhook_url FROM dispatch_consumers WHERE key_hash = $1', [hashKey(apiKey)]);
  return rows[0] ? toConsumer(rows[0]) : null;
}

export async function listConsumers(db: Queryable): Promise<Consumer[]> {
  const rows = await db.query<ConsumerRow>('SELECT id, name, units, webhook_url FROM dispatch_consumers ORDER BY id');
  return rows.map(toConsumer);
}
