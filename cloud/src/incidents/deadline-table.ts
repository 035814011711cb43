// Deadlines per level (1 most urgent … 5): acknowledge, arrive on site, resolve. The defaults live
// beside the incident logic that schedules them; config.ts only lets a deployment override them.

export interface LevelDeadlines {
  ackS: number;
  onSiteS: number;
  resolveS: number;
}
export type DeadlineTable = Record<1 | 2 | 3 | 4 | 5, LevelDeadlines>;

export const DEFAULT_DEADLINES: Readonly<DeadlineTable> = Object.freeze({
  1: { ackS: 60, onSiteS: 300, resolveS: 3600 },
  2: { ackS: 120, onSiteS: 600, resolveS: 7200 },
  3: { ackS: 300, onSiteS: 1800, resolveS: 14400 },
  4: { ackS: 900, onSiteS: 3600, resolveS: 86400 },
  5: { ackS: 3600, onSiteS: 14400, resolveS: 259200 },
});
