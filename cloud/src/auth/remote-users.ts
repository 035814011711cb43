// `gridwatch-cloud user add` beside a running cloud: the user is created by the running process
// through POST /api/v1/users (admin token), so it can log in at once; a second process never opens
// the embedded store behind the running one's back (store/pglite-lock.ts refuses that anyway).
import { lockHolder } from '../store/pglite-lock.ts';
import type { NewUser } from './users.ts';

export interface RemoteUserResult {
  user: { username: string; displayName: string; role: string; jurisdictions: string[] };
  created: boolean;
}

export class RemoteAdminError extends Error {
  override readonly name = 'RemoteAdminError';
}

/** The API of a cloud running on this embedded data folder (advertised in its lock), or null. */
export function runningCloudApi(dataDir: string): string | null {
  return lockHolder(dataDir)?.httpUrl ?? null;
}

export async function addUserViaApi(apiUrl: string, adminToken: string | null, input: NewUser & { ifAbsent: boolean }): Promise<RemoteUserResult> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/v1/users', apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}) },
      body: JSON.stringify(input),
    });
  } catch (err) {
    throw new RemoteAdminError(`api: cannot reach the running cloud at ${apiUrl} (${(err as Error).message}); is it still running?`);
  }
  const body = (await response.json().catch(() => ({}))) as Partial<RemoteUserResult> & { error?: string };
  if (response.status === 401 || response.status === 403) {
    throw new RemoteAdminError(`admin token: refused by the running cloud at ${apiUrl}; pass the one it was started with (--admin-token-file or GRIDWATCH_ADMIN_TOKEN)`);
  }
  if (!response.ok || !body.user) throw new RemoteAdminError(body.error ?? `api: ${apiUrl} answered ${response.status}`);
  return { user: body.user, created: body.created ?? true };
}
