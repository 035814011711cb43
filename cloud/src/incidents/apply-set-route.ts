// Routing of a whole group in memory (apply-set.ts): the same decision as routing/directory.ts
// `route` + `unitAt`, made from the rules and units read once for the group instead of one to
// five statements per incident. Rules arrive in route()'s order (priority, '*' last, id) and units
// in the database's id order, so filtering them here picks exactly what the SQL would.
import { LADDER_UNIT_TYPES, TIERS, type Jurisdiction, type Route, type Tier, type Unit } from '../routing/directory.ts';

export interface RuleRow {
  id: number;
  alarm_type: string;
  max_level: number;
  area_tier: Tier;
  area: string;
  tier: Tier;
  unit_type: string | null;
}

/** The jurisdictions' (tier, area) pairs whose units a group's routing may need. */
export function unitAreas(where: readonly Jurisdiction[]): { tier: Tier; area: string }[] {
  const seen = new Map<string, { tier: Tier; area: string }>();
  for (const w of where) {
    for (const tier of TIERS) {
      const area = w[tier];
      if (area !== null) seen.set(`${tier}\u0000${area}`, { tier, area });
    }
  }
  return [...seen.values()];
}

/** unitAt: `unitType` first when given, else the ladder's type, else any; ties by id (the input's order). */
function unitIn(units: readonly Unit[], where: Jurisdiction, tier: Tier, unitType: string | null): Unit | null {
  const area = where[tier];
  if (area === null) return null;
  let best: Unit | null = null;
  let bestScore = -1;
  for (const u of units) {
    if (u.tier !== tier || u.area !== area) continue;
    const score = (u.type === (unitType ?? '') ? 2 : 0) + (u.type === LADDER_UNIT_TYPES[tier] ? 1 : 0);
    if (score > bestScore) {
      best = u;
      bestScore = score;
    }
  }
  return best;
}

/** route(): the first rule whose area matches and whose tier has a unit; else up the ladder from the grid. */
export function routeInMemory(rules: readonly RuleRow[], units: readonly Unit[], where: Jurisdiction, alarmType: string, level: number): Route {
  for (const rule of rules) {
    if (rule.alarm_type !== alarmType && rule.alarm_type !== '*') continue;
    if (level > Number(rule.max_level)) continue;
    if (rule.area !== '*' && where[rule.area_tier] !== rule.area) continue;
    const unit = unitIn(units, where, rule.tier, rule.unit_type);
    if (unit) return { tier: rule.tier, unit };
  }
  for (const tier of TIERS) {
    const unit = unitIn(units, where, tier, null);
    if (unit) return { tier, unit };
  }
  return { tier: 'grid', unit: null };
}
