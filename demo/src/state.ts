// What the demo keeps between starts beside the databases: the gateway's and devices' secrets (the
// cloud stores only hashes), so a restart reconnects with the same credentials. `--fresh` deletes
// the whole data folder.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoState {
  gatewaySecret: string;
  deviceSecrets: Record<string, string>;
}

const secret = (bytes: number): string => randomBytes(bytes).toString('base64url');

export function loadState(dataDir: string, deviceIds: string[]): { state: DemoState; fresh: boolean } {
  const file = join(dataDir, 'demo-state.json');
  const fresh = !existsSync(file);
  const state: DemoState = fresh ? { gatewaySecret: secret(18), deviceSecrets: {} } : (JSON.parse(readFileSync(file, 'utf8')) as DemoState);
  for (const id of deviceIds) state.deviceSecrets[id] ??= secret(12);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return { state, fresh };
}
