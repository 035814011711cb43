// Acting on an incident from a signed link (no login): the link's signature, expiry and single
// use are checked, then the action goes through the lifecycle (applyAction) in the same
// transaction as marking the link used, audited with the person and the channel it was sent by.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getIncident, type Incident } from '../incidents/incident.ts';
import { applyAction } from '../incidents/lifecycle.ts';
import type { EngineOptions, Outcome } from '../incidents/outcome.ts';
import { noteOf } from '../incidents/reasons.ts';
import type { Queryable, Store } from '../store/store.ts';
import { linkHolder, useLink, verifyLink, type LinkHolder } from './links.ts';

/** What the page offers: 确认 / 到场 / 误报. */
export const LINK_ACTIONS = ['acknowledge', 'on_site', 'false_alarm'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

/** The link key: GRIDWATCH_NOTIFY_LINK_KEY_FILE or GRIDWATCH_NOTIFY_LINK_KEY, else one kept in the database. */
export async function linkKey(db: Queryable, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = env.GRIDWATCH_NOTIFY_LINK_KEY_FILE;
  const configured = file ? readFileSync(file, 'utf8').trim() : env.GRIDWATCH_NOTIFY_LINK_KEY;
  if (configured) {
    if (configured.length < 32) throw new Error('GRIDWATCH_NOTIFY_LINK_KEY: at least 32 characters');
    return configured;
  }
  await db.query("INSERT INTO notify_keys (name, key) VALUES ('links', $1) ON CONFLICT (name) DO NOTHING", [randomBytes(32).toString('base64url')]);
  const rows = await db.query<{ key: string }>("SELECT key FROM notify_keys WHERE name = 'links'");
  return (rows[0] as { key: string }).key;
}

export interface LinkView {
  incident: Incident;
  holder: LinkHolder;
}

/** For the page: the incident behind a valid link (refused when altered, expired or unknown). */
export async function viewLink(store: Store, key: string, token: string, now: number): Promise<LinkView> {
  const claims = verifyLink(key, token, now);
  const holder = await linkHolder(store, claims);
  const incident = await getIncident(store, claims.incidentId);
  if (!incident) throw new Error(`incident ${claims.incidentId} of a valid link is gone`);
  return { incident, holder };
}

export async function actFromLink(store: Store, engine: EngineOptions, outcome: Outcome, input: { key: string; token: string; action: LinkAction; now: number }): Promise<LinkView> {
  const claims = verifyLink(input.key, input.token, input.now);
  return store.transaction(async (tx) => {
    const holder = await useLink(tx, claims, input.action);
    const incident = await applyAction(tx, claims.incidentId, { action: input.action, actor: holder.personId, source: `link:${holder.channel}`, note: '', coded: noteOf('ack_link', { channel: holder.channel }) }, engine, outcome);
    return { incident, holder };
  });
}
