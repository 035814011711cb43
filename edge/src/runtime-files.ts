// Files the agent keeps in its data folder for people and scripts: runtime.json (the ports it
// actually bound) and the unclean-start counter.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Written to `${dataDir}/runtime.json` so scripts can find the ports the agent actually bound. */
export interface RuntimeInfo {
  gatewayId: string;
  pid: number;
  localMqttPort: number;
  httpPort: number;
  startedAt: number;
}

export function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  const file = join(dataDir, 'runtime.json');
  // Write-then-rename so a reader never sees a half-written file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Unclean starts are counted with a marker file that only a graceful stop removes. */
export function countUncleanStart(dataDir: string): number {
  const marker = join(dataDir, 'running.marker');
  const counter = join(dataDir, 'restarts.json');
  let unclean = 0;
  try {
    unclean = (JSON.parse(readFileSync(counter, 'utf8')) as { unclean: number }).unclean;
  } catch {
    unclean = 0;
  }
  const wasRunning = existsSync(marker);
  if (wasRunning) {
    unclean += 1;
    writeFileSync(`${counter}.tmp`, JSON.stringify({ unclean }));
    renameSync(`${counter}.tmp`, counter);
  }
  writeFileSync(marker, String(process.pid));
  return wasRunning ? unclean : 0;
}

/** Removed only by a graceful stop. */
export function clearRunningMarker(dataDir: string): void {
  rmSync(join(dataDir, 'running.marker'), { force: true });
}
