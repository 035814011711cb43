// A dispatch consumer sees what its units serve (issue 11): each unit has a tier and an area of the
// address ladder, so a consumer limited to units [u1, u2] gets the jurisdictions
// `${u.tier}:${u.area}` — the same scoping users have (scope.ts), reused for lists, single
// incidents, CAP and socket.io rooms. A consumer with '*' sees everything.
import type { Queryable } from '../store/store.ts';
import type { Jurisdiction, User } from './users.ts';

/** The consumer's reach as a scoping user, or null for everything ('*'). Unknown units reach nothing. */
export async function consumerReach(db: Queryable, consumer: { id: string; units: string[] }): Promise<User | null> {
  if (consumer.units.includes('*')) return null;
  const rows = await db.query<{ tier: string; area: string }>('SELECT tier, area FROM units WHERE id = ANY($1::text[])', [`{${consumer.units.map((u) => `"${u}"`).join(',')}}`]);
  const jurisdictions = rows.map((r) => `${r.tier}:${r.area}` as Jurisdiction);
  return { username: `consumer:${consumer.id}`, displayName: consumer.id, role: 'dispatcher', jurisdictions, sessionEpoch: 0 };
}
