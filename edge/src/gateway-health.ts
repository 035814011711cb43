// The gateway's own health as alarms: the uplink down too long, the wall clock jumping, the
// telemetry lane or the disk filling up. Each check yields drafts through the rule engine's
// `system` alarms, so they raise and clear like any device alarm.
import { statfsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EdgeConfig } from './config/index.ts';
import type { TelemetryLane } from './outbox/index.ts';
import type { Clock, RuleEngine } from './rules/index.ts';
import type { EventDraft } from './types.ts';

export interface GatewayHealthOptions {
  config: EdgeConfig;
  engine: RuleEngine;
  clock: Clock;
  telemetry: TelemetryLane | null;
  /** Since when the cloud is unreachable (epoch ms), or null while connected. */
  uplinkDownSince: () => number | null;
}

function freeDiskRatio(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail / fs.blocks;
  } catch {
    return 1;
  }
}

/** A function to call on every tick; it keeps what it needs between calls (last clock offset, thinning). */
export function gatewayHealthChecks({ config, engine, clock, telemetry, uplinkDownSince }: GatewayHealthOptions): () => EventDraft[] {
  let clockOffset = Date.now() - performance.now();
  let clockJumped = false;
  const thinnedTotal = (): number => (telemetry ? telemetry.stats().downsampled + telemetry.stats().dropped : 0);
  let thinnedAtLastCheck = thinnedTotal();

  const uplink = (now: number): EventDraft[] => {
    const since = uplinkDownSince();
    const downFor = since === null ? 0 : Date.now() - since;
    const downLimit = config.health.uplinkDownAlarmSeconds * 1000;
    if (downFor < downLimit && since !== null) return [];
    return engine.system('uplink_down', downFor >= downLimit, 3, `cloud unreachable for ${Math.round(downFor / 1000)} s`, now);
  };

  const clockJump = (now: number): EventDraft[] => {
    const offset = Date.now() - performance.now();
    const jump = offset - clockOffset;
    clockOffset = offset;
    if (Math.abs(jump) >= config.health.clockJumpSeconds * 1000) {
      clockJumped = true;
      return engine.system('clock_jump', true, 4, `wall clock jumped by ${Math.round(jump / 1000)} s`, now);
    }
    if (!clockJumped) return [];
    clockJumped = false;
    return engine.system('clock_jump', false, 4, '', now);
  };

  const diskBudget = (now: number): EventDraft[] => {
    if (!telemetry) return [];
    const { bytes, budgetBytes } = telemetry.stats();
    const freeRatio = freeDiskRatio(config.dataDir);
    // Thinning since the last check means readings are being lost now, whatever the lane's level
    // at this instant (a thinning pass leaves it anywhere from ~92 % to 100 % of the budget).
    const thinning = thinnedTotal() > thinnedAtLastCheck;
    thinnedAtLastCheck = thinnedTotal();
    const full = thinning || bytes >= 0.95 * budgetBytes || freeRatio < 0.02;
    const ok = bytes < 0.5 * budgetBytes && freeRatio >= 0.05;
    if (!full && !ok) return [];
    const reason = `telemetry lane at ${Math.round((100 * bytes) / budgetBytes)} % of its budget, ${Math.round(freeRatio * 100)} % of the disk free; oldest telemetry is being thinned`;
    return engine.system('disk_budget', full, 4, reason, now);
  };

  return () => {
    const now = clock.now();
    return [...uplink(now), ...clockJump(now), ...diskBudget(now)];
  };
}
