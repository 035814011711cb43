// Sends due notification rows: claimed with a lease (FOR UPDATE SKIP LOCKED, so replicas share
// the work and a crashed sender's rows come back), rendered (template + a fresh signed link),
// rate-limited per recipient, sent once, and settled: sent, retried with exponential back-off, or
// dead-lettered after the attempt limit. Every attempt is an audit row of the incident.
import { backoffDelay } from '@gridwatch/protocol';
import type { Logger } from 'pino';
import { audit, getIncident } from '../incidents/incident.ts';
import { noteOf } from '../incidents/reasons.ts';
import type { Queryable, Store } from '../store/store.ts';
import type { NotifyOutcome, NotifySender } from './channel.ts';
import type { NotifyConfig } from './config.ts';
import { issueLink } from './links.ts';
import { UNACKNOWLEDGED } from './plan.ts';
import { renderMessage } from './templates.ts';

export interface DueRow {
  id: number;
  incidentId: number;
  step: number;
  personId: string;
  role: string;
  channel: string;
  recipient: string;
  attempts: number;
}

export type AttemptResult = 'sent' | 'retry' | 'dead' | 'rate_limited';

export interface DeliverDeps {
  store: Store;
  config: NotifyConfig;
  senders: ReadonlyMap<string, NotifySender>;
  linkKey: string;
  log: Logger;
  now: () => number;
  /** Called once per attempt (metrics). */
  onAttempt: (channel: string, result: AttemptResult) => void;
}

/** Channels that cannot carry a link (a voice call reads its template aloud). */
const NO_LINK = new Set(['aliyun-voice']);
const LEASE_MS = 60_000;

export async function claimDue(db: Queryable, now: number, limit: number): Promise<DueRow[]> {
  const rows = await db.query<{ id: string | number; incident_id: string | number; step: number; person_id: string; role: string; channel: string; recipient: string; attempts: number }>(
    `UPDATE notifications SET next_at = to_timestamp(($1 + $3) / 1000.0), attempts = attempts + 1
     WHERE id IN (SELECT id FROM notifications n WHERE status = 'pending' AND next_at <= to_timestamp($1 / 1000.0)
       AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = n.incident_id AND i.shelved_until IS NOT NULL)
       ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id, incident_id, step, person_id, role, channel, recipient, attempts`,
    [now, limit, LEASE_MS],
  );
  return rows.map((r) => ({ id: Number(r.id), incidentId: Number(r.incident_id), step: r.step, personId: r.person_id, role: r.role, channel: r.channel, recipient: r.recipient, attempts: r.attempts }));
}

/** Phones and addresses appear masked in the audit trail: enough to tell recipients apart. */
export function masked(recipient: string): string {
  return recipient.length <= 4 ? '****' : `${'*'.repeat(Math.min(7, recipient.length - 4))}${recipient.slice(-4)}`;
}

async function rateLimited(db: Queryable, row: DueRow, config: NotifyConfig, now: number): Promise<boolean> {
  const { max, windowS } = config.delivery.perRecipient;
  const rows = await db.query<{ n: string | number }>(
    "SELECT count(*) AS n FROM notifications WHERE channel = $1 AND recipient = $2 AND status = 'sent' AND sent_at > to_timestamp($3 / 1000.0)",
    [row.channel, row.recipient, now - windowS * 1000],
  );
  return Number(rows[0]?.n ?? 0) >= max;
}

/**
 * One send; 'stopped' when the incident was acknowledged since the row was planned (chain stopped),
 * 'shelved' when it was shelved since the row was claimed (the row waits for the unshelve).
 */
async function attempt(deps: DeliverDeps, row: DueRow, now: number): Promise<NotifyOutcome | 'stopped' | 'shelved'> {
  const sender = deps.senders.get(row.channel);
  if (!sender) return { ok: false, retryable: false, detail: `channel ${row.channel} is not configured` };
  const incident = await getIncident(deps.store, row.incidentId);
  if (!incident) return { ok: false, retryable: false, detail: 'incident gone' };
  if (!incident.open || !(UNACKNOWLEDGED as readonly string[]).includes(incident.status)) return 'stopped';
  if (incident.shelvedUntil !== null) return 'shelved';
  const deadlines = await deps.store.query<{ due_at: Date | string }>(
    "SELECT due_at FROM deadlines WHERE incident_id = $1 AND kind = 'ack' AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY due_at LIMIT 1",
    [incident.id],
  );
  const due = deadlines[0] ? new Date(deadlines[0].due_at).getTime() : null;
  const token = NO_LINK.has(row.channel) ? null : await issueLink(deps.store, deps.linkKey, { incidentId: incident.id, personId: row.personId, channel: row.channel, ttlMs: deps.config.linkTtlS * 1000, now });
  const link = token ? `${deps.config.linkBaseUrl.replace(/\/$/, '')}/ack/${token}` : null;
  const person = deps.config.people.find((p) => p.id === row.personId);
  const message = renderMessage({ incident, lang: person?.lang ?? deps.config.lang, key: `gw-n${row.id}`, link, deadlineAt: due, now, timeZone: deps.config.timeZone });
  const contact = person?.contacts.find((c) => c.channel === row.channel && c.to === row.recipient);
  return sender.send(message, { channel: row.channel, to: row.recipient, ...(contact?.mention ? { mention: contact.mention } : {}) }, { log: deps.log, timeoutMs: deps.config.delivery.timeoutMs, now: deps.now });
}

async function settle(deps: DeliverDeps, row: DueRow, outcome: NotifyOutcome, now: number): Promise<AttemptResult> {
  const { maxAttempts, backoffMs, maxBackoffMs } = deps.config.delivery;
  const result: AttemptResult = outcome.ok ? 'sent' : outcome.retryable && row.attempts < maxAttempts ? 'retry' : 'dead';
  const nextAt = now + backoffDelay(Math.max(0, row.attempts - 1), { baseMs: backoffMs, maxMs: maxBackoffMs });
  await deps.store.transaction(async (tx) => {
    await tx.query(
      `UPDATE notifications SET status = $2, last_error = $3, receipt = COALESCE($4, receipt), sent_at = CASE WHEN $2 = 'sent' THEN to_timestamp($5 / 1000.0) ELSE sent_at END,
         next_at = to_timestamp($6 / 1000.0) WHERE id = $1`,
      [row.id, result === 'retry' ? 'pending' : result, outcome.ok ? null : outcome.detail, outcome.receipt ?? null, now, nextAt],
    );
    const note = noteOf('notify_attempt', {
      channel: row.channel,
      personId: row.personId,
      role: row.role,
      recipient: masked(row.recipient),
      step: row.step,
      attempt: row.attempts,
      result,
      detail: outcome.detail,
    });
    await audit(tx, row.incidentId, { actor: 'system', source: `notify:${row.channel}`, action: 'notify', ...note });
  });
  return result;
}

/** Delivers up to `limit` due rows; returns how many were handled. */
export async function deliverDue(deps: DeliverDeps, limit: number): Promise<number> {
  const now = deps.now();
  const rows = await claimDue(deps.store, now, limit);
  for (const row of rows) {
    if (await rateLimited(deps.store, row, deps.config, now)) {
      // Deferred, not dropped, and the attempt is given back.
      await deps.store.query('UPDATE notifications SET attempts = attempts - 1, next_at = to_timestamp($2 / 1000.0) WHERE id = $1', [row.id, now + deps.config.delivery.backoffMs]);
      deps.onAttempt(row.channel, 'rate_limited');
      continue;
    }
    const outcome = await attempt(deps, row, now);
    if (outcome === 'stopped') {
      await deps.store.query("UPDATE notifications SET status = 'cancelled', last_error = 'chain stopped before sending' WHERE id = $1", [row.id]);
      continue;
    }
    if (outcome === 'shelved') {
      // Held, not dropped: the attempt is given back and the row is sent once the incident is unshelved.
      await deps.store.query('UPDATE notifications SET attempts = attempts - 1, next_at = to_timestamp($2 / 1000.0) WHERE id = $1', [row.id, now]);
      continue;
    }
    const result = await settle(deps, row, outcome, now);
    deps.onAttempt(row.channel, result);
    if (result !== 'sent') deps.log.warn({ notification: row.id, channel: row.channel, result, detail: outcome.detail }, 'notification not delivered');
  }
  return rows.length;
}
