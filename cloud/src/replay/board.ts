// What the board would have shown at the end of a replayed day, and the ISA-18.2 KPIs over it,
// as one report: JSON for scripts, a short bilingual (zh-CN / en) table for people.
import { listIncidents } from '../incidents/incident.ts';
import { alarmKpis, type AlarmKpis } from '../incidents/kpis.ts';
import type { Store } from '../store/store.ts';
import type { PlayResult } from './play.ts';

export interface BoardSummary {
  /** Board items (not folded into a flood notice), open or not. */
  items: number;
  open: number;
  /** Incident rows in total, folded members included. */
  incidents: number;
  byLane: Record<string, number>;
  byLevel: Record<string, number>;
  byType: Record<string, number>;
  floods: number;
  chattering: number;
}
export interface ReplayReport {
  script: { steps: number; events: number; rejected: number; fromMs: number; toMs: number };
  board: BoardSummary;
  kpis: AlarmKpis;
  /** The first few events the cloud rejected (a script naming unknown addresses shows here). */
  rejectedEvents: { id: string; reason: string }[];
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export async function boardSummary(store: Store): Promise<BoardSummary> {
  const all = await listIncidents(store, { limit: 1_000_000 });
  const board = all.filter((i) => i.groupId === null);
  const summary: BoardSummary = { items: board.length, open: 0, incidents: all.length, byLane: {}, byLevel: {}, byType: {}, floods: 0, chattering: 0 };
  for (const item of board) {
    if (item.open) summary.open += 1;
    if (item.kind === 'flood') summary.floods += 1;
    if (item.chattering) summary.chattering += 1;
    bump(summary.byLane, item.lane);
    bump(summary.byLevel, String(item.level));
    bump(summary.byType, item.alarmType);
  }
  return summary;
}

export async function replayReport(store: Store, played: PlayResult): Promise<ReplayReport> {
  const kpis = await alarmKpis(store, played.startMs, played.endMs);
  const script = { steps: played.steps, events: played.events, rejected: played.rejected.length, fromMs: played.startMs, toMs: played.endMs };
  return { script, board: await boardSummary(store), kpis, rejectedEvents: played.rejected.slice(0, 20) };
}

const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** A short table for a person at a terminal (labels zh-CN / en). */
export function renderReport(report: ReplayReport): string {
  const { script, board, kpis } = report;
  const lines = [
    `回放 replay   ${new Date(script.fromMs).toISOString()} → ${new Date(script.toMs).toISOString()}   steps ${script.steps}, events ${script.events}, rejected ${script.rejected}`,
    `看板 board    items ${board.items} (open ${board.open}), incident rows ${board.incidents}, flood notices ${board.floods}, chattering ${board.chattering}`,
    `  按队列 lane   ${counts(board.byLane)}`,
    `  按级别 level  ${counts(board.byLevel)}`,
    `  按类型 type   ${counts(board.byType)}`,
    `指标 KPIs     chattering ${kpis.chattering}, stale ${kpis.stale}, false-alarm review ${kpis.falseAlarms.filter((f) => f.review).length}`,
    '  社区 community      items  per10min  worst10min  flood%',
    ...kpis.jurisdictions.map((j) => `  ${j.community.padEnd(18)} ${String(j.items).padStart(6)} ${j.perTenMinutes.toFixed(2).padStart(9)} ${String(j.worstTenMinutes).padStart(11)} ${j.floodPercent.toFixed(1).padStart(7)}`),
    '  高频源 top sources',
    ...kpis.topSources.map((s) => `    ${String(s.raises).padStart(5)}  ${s.deviceId} ${s.alarmType}`),
    ...report.rejectedEvents.map((r) => `  拒收 rejected  ${r.id}: ${r.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}
