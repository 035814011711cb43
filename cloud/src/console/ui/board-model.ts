// What the board shows and offers, from the server's lifecycle table (GET /api/v1/catalogue):
// order, the buttons an incident gets, "returned, unacknowledged", places and deadlines. Pure
// functions, so the component tests and the journey test check the same rules.
import { duration, t } from './i18n.ts';
import type { Catalogue, Incident } from './types.ts';

/** The buttons, in this order, wherever the server's lifecycle allows them (unknown new actions last). */
export const ACTION_ORDER = ['acknowledge', 'dispatch', 'reassign', 'on_site', 'resolve', 'close', 'false_alarm', 'shelve', 'unshelve', 'note'];
/** Never offered as a button: `test` is set by installers' tooling. */
const HIDDEN_ACTIONS = new Set(['test']);
/** Actions that need a reason (CONTRACTS.md: reassign and shelve require the note). */
export const NEEDS_REASON = new Set(['reassign', 'shelve']);
/** The flood group's one-step acknowledge (acknowledge with members: true). */
export const GROUP_ACK = 'acknowledge_group';

export const isOpenStatus = (c: Catalogue, status: string): boolean => !c.lifecycle.finalStatuses.includes(status);

function allowed(c: Catalogue, action: string, i: Incident): boolean {
  const a = c.lifecycle.actions.find((x) => x.action === action);
  if (!a || !a.from.includes(i.status)) return false;
  const shelved = Boolean(i.shelvedUntil);
  if (action === 'unshelve') return shelved;
  if (action === 'shelve') return !shelved;
  // A unit must exist to move away from; dispatch is for an unrouted incident.
  if (action === 'reassign') return i.unitId !== null;
  return true;
}

/** The buttons for one incident (the lifecycle table decides; a note while it is open). */
export function actionsFor(c: Catalogue, i: Incident): string[] {
  const open = isOpenStatus(c, i.status);
  const known = c.lifecycle.actions.map((a) => a.action).filter((a) => !HIDDEN_ACTIONS.has(a));
  const ordered = [...ACTION_ORDER.filter((a) => known.includes(a)), ...known.filter((a) => !ACTION_ORDER.includes(a)).sort()];
  if (i.kind === 'flood') {
    const out = allowed(c, 'acknowledge', i) ? [GROUP_ACK] : [];
    return open ? [...out, 'note'] : out;
  }
  return ordered.filter((a) => (a === 'note' ? open : allowed(c, a, i)));
}

/** Board order: open first, most urgent level, newest; then the rest newest first. */
export function compare(c: Catalogue, a: Incident, b: Incident): number {
  const ao = isOpenStatus(c, a.status) ? 0 : 1;
  const bo = isOpenStatus(c, b.status) ? 0 : 1;
  if (ao !== bo) return ao - bo;
  if (ao === 0 && a.level !== b.level) return a.level - b.level;
  return b.raisedAt - a.raisedAt || b.id - a.id;
}

/** ISA-18.2 "returned, unacknowledged": the devices are back to normal, nobody has acknowledged yet. */
export const awaitingAck = (i: Incident): boolean => i.open && i.alarmState === 'returned' && (i.status === 'raised' || i.status === 'dispatched');

export const statusText = (i: Incident): string => (awaitingAck(i) ? t('status.returned_unack') : t(`status.${i.status}`));

/** What staff read: the place name and text address; codes only when the address book has no text. */
export function placeText(i: Pick<Incident, 'placeName' | 'addressText' | 'community' | 'grid' | 'addressId'>): string {
  const readable = [i.placeName, i.addressText].filter(Boolean);
  if (readable.length) return readable.join(' · ');
  const parts: string[] = [];
  if (i.community) parts.push(`${t('tier.community')} ${i.community}`);
  if (i.grid) parts.push(`${t('tier.grid')} ${i.grid}`);
  if (i.addressId) parts.push(i.addressId);
  return parts.join(' · ') || '—';
}

/** Time left to the next pending deadline, or how long it is overdue. */
export function deadlineText(c: Catalogue, i: Incident, now: number): { text: string; cls: string } {
  const pending = (i.deadlines ?? []).filter((d) => d.firedAt === null && d.cancelledAt === null);
  if (!isOpenStatus(c, i.status) || pending.length === 0) return { text: '—', cls: '' };
  const d = [...pending].sort((x, y) => x.dueAt - y.dueAt)[0] as (typeof pending)[number];
  const left = d.dueAt - now;
  if (left < 0) return { text: t('overdue', { t: duration(-left) }), cls: 'overdue' };
  return { text: t('left', { kind: t(`deadline.${d.kind}`), t: duration(left) }), cls: left < 60_000 ? 'soon' : '' };
}

/** Board filters (applied to the live board in the page; the history asks the server). */
export interface Filters {
  level: string;
  status: string;
  type: string;
  grid: string;
  q: string;
}
export const NO_FILTERS: Filters = { level: '', status: '', type: '', grid: '', q: '' };

export function matches(f: Filters, i: Incident): boolean {
  if (f.level && String(i.level) !== f.level) return false;
  if (f.status && i.status !== f.status) return false;
  if (f.type && i.alarmType !== f.type) return false;
  if (f.grid && i.grid !== f.grid) return false;
  const q = f.q.trim().toLowerCase();
  if (q) {
    const hay = [i.placeName, i.addressText, i.addressId, i.deviceId, i.unitName].filter(Boolean).join(' ').toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}
