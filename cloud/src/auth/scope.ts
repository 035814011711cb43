// Jurisdiction scoping: which incidents a user sees and acts on, the socket.io rooms an incident
// is sent to, and the SQL filter for lists. One incident belongs to every tier of its address
// (grid ⊂ community ⊂ street ⊂ district), so a street officer sees all of the street's communities.
import { TIERS } from '../routing/directory.ts';
import type { SqlParam } from '../store/store.ts';
import type { Jurisdiction, User } from './users.ts';

/** Room of every client allowed to see everything (`*` users, consumers, open-access anonymous). */
export const ALL_ROOM = 'scope:*';

export interface Located {
  grid: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
}

export function roomOf(jurisdiction: Jurisdiction): string {
  return jurisdiction === '*' ? ALL_ROOM : `scope:${jurisdiction}`;
}

/** Rooms an incident (or a test event's address) is delivered to. */
export function roomsFor(where: Located): string[] {
  const rooms = [ALL_ROOM];
  for (const tier of TIERS) {
    const area = where[tier];
    if (area) rooms.push(`scope:${tier}:${area}`);
  }
  return rooms;
}

export function canSee(user: User, where: Located): boolean {
  const rooms = new Set(roomsFor(where));
  return user.jurisdictions.some((j) => rooms.has(roomOf(j)));
}

/** `WHERE` fragment limiting incidents (columns grid, community, street, district) to the user's jurisdictions. */
export function scopeFilter(user: User, params: SqlParam[], alias = ''): string {
  if (user.jurisdictions.includes('*')) return 'true';
  const parts = user.jurisdictions.map((j) => {
    const i = j.indexOf(':');
    params.push(j.slice(i + 1));
    return `${alias}${j.slice(0, i)} = $${params.length}`;
  });
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}
