// One replay from start to report: a scratch PGlite database (memory:// unless a folder is
// given), migrated, the rehearsal gateway and the script's directory in it, the script played,
// the board and KPIs read back.
import { pino } from 'pino';
import { usePlacementLog } from '../gateways/placement.ts';
import { GatewayRegistry } from '../gateways/registry.ts';
import { DEFAULT_ENGINE } from '../incidents/apply.ts';
import type { EngineOptions } from '../incidents/outcome.ts';
import { parseAlarmPolicy } from '../incidents/policy.ts';
import { migrate } from '../store/migrate.ts';
import { PgliteStore } from '../store/pglite.ts';
import { replayReport, type ReplayReport } from './board.ts';
import { importDirectory, playScript, type PlayProgress } from './play.ts';
import type { Directory, Script } from './script.ts';

export const REPLAY_GATEWAY = { gatewayId: 'gw-replay', site: 'replay' };
/** 2026-12-01 00:00 UTC: second 0 of a script when no start is given. */
export const DEFAULT_START_MS = Date.UTC(2026, 11, 1, 0, 0, 0);

export interface ReplayOptions {
  script: Script;
  /** JSON text, a file path or an object; replaces the script's own `alarmPolicy`. */
  alarmPolicy?: unknown;
  /** Used when the script carries none. */
  directory?: Directory;
  /** `memory://` (default) or a scratch folder. */
  dataDir?: string;
  startMs?: number;
  speed?: number;
  onProgress?: (progress: PlayProgress) => void;
}

function engineFor(policy: unknown): EngineOptions {
  return policy === undefined ? DEFAULT_ENGINE : { ...DEFAULT_ENGINE, alarmPolicy: parseAlarmPolicy(policy) };
}

export async function runReplay(options: ReplayOptions): Promise<ReplayReport> {
  const { script } = options;
  // stdout carries the report (JSON with --json): the engine's warnings go to stderr.
  usePlacementLog(pino({ name: 'gridwatch-cloud', level: 'warn' }, pino.destination(2)));
  const engine = engineFor(options.alarmPolicy ?? script.alarmPolicy);
  const store = await PgliteStore.open(options.dataDir ?? 'memory://');
  try {
    await migrate(store);
    await new GatewayRegistry(store).addGateway({ ...REPLAY_GATEWAY, secret: 'replay-scratch-secret' });
    const directory = script.directory ?? options.directory;
    if (directory) await importDirectory(store, directory);
    const played = await playScript(store, script, {
      gateway: REPLAY_GATEWAY,
      engine,
      startMs: options.startMs ?? DEFAULT_START_MS,
      speed: options.speed ?? 0,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return await replayReport(store, played);
  } finally {
    await store.close();
  }
}
