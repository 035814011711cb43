// The console's calls to the cloud's API (same origin, session cookie). A 401 means the session
// ended (logout elsewhere, expiry): the app shows the login again.
import type { AlarmKpis, AuditEntry, Catalogue, Handover, Incident, IncidentContext, Jurisdiction, Overview, Unit, User } from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401 && path !== '/api/v1/auth/login') onUnauthorized();
  const text = await res.text();
  const json: unknown = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, (json as { error?: string } | null)?.error ?? String(res.status));
  return json as T;
}

/** The body of POST /api/v1/incidents/:id/actions (CONTRACTS.md). */
export interface ActionBody {
  action: string;
  note?: string;
  unitId?: string;
  until?: string;
  members?: boolean;
}

/** Filters of the board and the history (GET /api/v1/incidents query, CONTRACTS.md). */
export interface IncidentQuery {
  level?: number[];
  status?: string;
  type?: string;
  grid?: string;
  q?: string;
  from?: string;
  to?: string;
  shelved?: boolean;
  limit?: number;
}

export function incidentsPath(query: IncidentQuery, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(extra);
  if (query.level?.length) p.set('level', query.level.join(','));
  for (const key of ['status', 'type', 'grid', 'q', 'from', 'to'] as const) if (query[key]) p.set(key, String(query[key]));
  if (query.shelved) p.set('shelved', 'true');
  p.set('limit', String(query.limit ?? 200));
  return `/api/v1/incidents?${p.toString()}`;
}

export const http = {
  me: () => api<{ user: User }>('GET', '/api/v1/auth/me'),
  login: (username: string, password: string) => api<{ user: User }>('POST', '/api/v1/auth/login', { username, password }),
  logout: () => api<null>('POST', '/api/v1/auth/logout'),
  catalogue: () => api<Catalogue>('GET', '/api/v1/catalogue'),
  jurisdictions: () => api<{ jurisdictions: Jurisdiction[] }>('GET', '/api/v1/jurisdictions'),
  units: () => api<{ units: Unit[] }>('GET', '/api/v1/units'),
  board: () => api<{ incidents: Incident[] }>('GET', '/api/v1/incidents?limit=200&deadlines=pending&board=true'),
  incidents: (query: IncidentQuery) => api<{ incidents: Incident[] }>('GET', incidentsPath(query)),
  incident: (id: number) => api<Incident>('GET', `/api/v1/incidents/${id}`),
  audit: (id: number) => api<{ audit: AuditEntry[] }>('GET', `/api/v1/incidents/${id}/audit`),
  context: (id: number) => api<IncidentContext>('GET', `/api/v1/incidents/${id}/context`),
  act: (id: number, body: ActionBody) => api<Incident>('POST', `/api/v1/incidents/${id}/actions`, body),
  overview: () => api<Overview>('GET', '/api/v1/overview'),
  kpis: () => api<AlarmKpis>('GET', '/api/v1/alarm-kpis'),
  handover: () => api<Handover>('GET', '/api/v1/handover'),
};
