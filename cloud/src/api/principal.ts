// Who is calling, and what they may see: the one place the API resolves credentials and scopes
// results. Each route declares an access kind; `accessMiddleware` answers 401 before the route's
// body is parsed, and leaves the principal on the response for the handler. New access kinds
// (e.g. scoped consumers) and new scoping rules belong here, not in the routes.
import { constantTimeEqual } from '@gridwatch/protocol';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { consumerReach } from '../auth/consumer-scope.ts';
import { canSee, type Located } from '../auth/scope.ts';
import { clearCookieHeader, isSessionToken, sessionCookie, type Sessions } from '../auth/session.ts';
import type { User } from '../auth/users.ts';
import { isLoopback, type CloudConfig } from '../config.ts';
import { consumerForKey, type Consumer } from '../dispatch/consumers.ts';
import type { Queryable } from '../store/store.ts';
import { HttpError } from './errors.ts';

export const EMQX_SECRET_HEADER = 'x-gridwatch-emqx-secret';

/** Who is calling: a console user (session cookie or Bearer session token), a dispatch consumer (Bearer API key) or nobody. */
export type Principal =
  | { kind: 'user'; user: User }
  /** reach: the consumer's units as a scoping user (auth/consumer-scope.ts); null = every incident. */
  | { kind: 'consumer'; consumer: Consumer; reach: User | null }
  | { kind: 'anonymous' };

/**
 * public: no credentials looked at. principal: any caller, credentials checked when sent.
 * reader: credentials required unless openAccess. consumer: a consumer API key. admin: the admin
 * token (open when none is configured). emqx: the shared secret header of the EMQX hooks.
 * metrics: open on a loopback httpHost, else Bearer <metrics token> (default: the admin token).
 */
export type Access = 'public' | 'principal' | 'reader' | 'consumer' | 'admin' | 'emqx' | 'metrics';

export const LOGIN_HINT = 'authorization: log in (POST /api/v1/auth/login) or send Bearer <consumer API key>';

/** Wording of each access kind's 401, served in the OpenAPI document. */
export const UNAUTHORIZED: Record<Exclude<Access, 'public'>, string> = {
  principal: 'Authentication failed: the session expired or was logged out, or the key is unknown',
  reader: 'Authentication failed: no valid session or consumer key (required unless openAccess)',
  consumer: 'Authentication failed: expected Bearer <consumer API key>',
  admin: 'Authentication failed: expected Bearer <admin token>',
  emqx: `Authentication failed: ${EMQX_SECRET_HEADER} missing or wrong`,
  metrics: 'Authentication failed: expected Bearer <metrics token> (httpHost is not loopback)',
};

/** OpenAPI security requirements of each access kind (an empty object: no credentials needed). */
export const SECURITY: Record<Access, Record<string, string[]>[] | undefined> = {
  public: undefined,
  principal: [{ session: [] }, { sessionCookie: [] }, { consumerKey: [] }, {}],
  reader: [{ session: [] }, { sessionCookie: [] }, { consumerKey: [] }, {}],
  consumer: [{ consumerKey: [] }],
  admin: [{ adminToken: [] }],
  emqx: [{ emqxSecret: [] }],
  metrics: [{ metricsToken: [] }, {}],
};

export const SECURITY_SCHEMES = {
  consumerKey: { type: 'http', scheme: 'bearer', description: 'Dispatch consumer API key' },
  adminToken: { type: 'http', scheme: 'bearer', description: 'Admin token (when configured)' },
  session: { type: 'http', scheme: 'bearer', description: 'Console session token from POST /api/v1/auth/login' },
  sessionCookie: { type: 'apiKey', in: 'cookie', name: 'gridwatch_session', description: 'The same token as an HttpOnly cookie (browsers)' },
  emqxSecret: { type: 'apiKey', in: 'header', name: EMQX_SECRET_HEADER, description: 'Shared secret of the EMQX HTTP hooks' },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'Metrics token (metricsToken, else the admin token); not needed on a loopback httpHost' },
} as const;

export interface AccessDeps {
  store: Queryable;
  sessions: Sessions;
  config: Pick<CloudConfig, 'adminToken' | 'openAccess' | 'emqxSecret' | 'httpHost' | 'metricsToken'>;
}

export function bearer(req: Request): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? (match[1] as string) : null;
}

export function sameSecret(given: string, expected: string): boolean {
  return constantTimeEqual(given, expected);
}

async function principalOf(req: Request, deps: AccessDeps): Promise<Principal> {
  const token = bearer(req) ?? sessionCookie(req.headers.cookie);
  if (token === null) return { kind: 'anonymous' };
  if (isSessionToken(token)) {
    const user = await deps.sessions.verify(token);
    if (user) return { kind: 'user', user };
    throw new HttpError(401, 'session: expired or logged out; log in again', { 'set-cookie': clearCookieHeader() });
  }
  const consumer = await consumerForKey(deps.store, token);
  if (consumer) return { kind: 'consumer', consumer, reach: await consumerReach(deps.store, consumer) };
  throw new HttpError(401, LOGIN_HINT);
}

async function consumerOf(req: Request, deps: AccessDeps): Promise<Principal> {
  const key = bearer(req);
  const consumer = key ? await consumerForKey(deps.store, key) : null;
  if (!consumer) throw new HttpError(401, 'authorization: expected Bearer <consumer API key>');
  return { kind: 'consumer', consumer, reach: await consumerReach(deps.store, consumer) };
}

function checkAdmin(req: Request, deps: AccessDeps): void {
  if (deps.config.adminToken === null) return;
  const token = bearer(req);
  if (token === null || !sameSecret(token, deps.config.adminToken)) throw new HttpError(401, 'authorization: expected Bearer <admin token>');
}

// The EMQX hooks answer for gateways and the ingest login; without a configured secret they do
// not exist. Also bind httpHost to the network EMQX runs on.
function checkEmqx(req: Request, deps: AccessDeps): void {
  if (deps.config.emqxSecret === null) throw new HttpError(404, 'not found');
  const given = req.headers[EMQX_SECRET_HEADER];
  if (typeof given !== 'string' || !sameSecret(given, deps.config.emqxSecret)) throw new HttpError(401, `${EMQX_SECRET_HEADER}: missing or wrong`);
}

// Metrics name gateways, consumers and load: off loopback they need a token (issue 11). With no
// token configured at all, an exposed /metrics answers 401 rather than everything to everyone.
function checkMetrics(req: Request, deps: AccessDeps): void {
  if (isLoopback(deps.config.httpHost)) return;
  const expected = deps.config.metricsToken ?? deps.config.adminToken;
  const token = bearer(req);
  if (expected === null || token === null || !sameSecret(token, expected)) throw new HttpError(401, 'authorization: expected Bearer <metrics token>');
}

export async function resolveAccess(access: Access, req: Request, deps: AccessDeps): Promise<Principal> {
  switch (access) {
    case 'public':
      return { kind: 'anonymous' };
    case 'principal':
      return principalOf(req, deps);
    case 'reader': {
      const principal = await principalOf(req, deps);
      if (principal.kind === 'anonymous' && !deps.config.openAccess) throw new HttpError(401, LOGIN_HINT);
      return principal;
    }
    case 'consumer':
      return consumerOf(req, deps);
    case 'admin':
      checkAdmin(req, deps);
      return { kind: 'anonymous' };
    case 'emqx':
      checkEmqx(req, deps);
      return { kind: 'anonymous' };
    case 'metrics':
      checkMetrics(req, deps);
      return { kind: 'anonymous' };
  }
}

const PRINCIPAL = 'gridwatchPrincipal';

export function accessMiddleware(access: Access, deps: AccessDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.locals[PRINCIPAL] = await resolveAccess(access, req, deps);
    next();
  };
}

export function principalFrom(res: Response): Principal {
  return (res.locals[PRINCIPAL] as Principal | undefined) ?? { kind: 'anonymous' };
}

/** What a principal may see: users their jurisdictions, consumers their units' areas, open-access callers everything. */
export interface Scope {
  /** The user whose jurisdictions limit lists, or null for no limit. */
  readonly user: User | null;
  sees(where: Located): boolean;
}

export function scopeOf(principal: Principal): Scope {
  const user = principal.kind === 'user' ? principal.user : principal.kind === 'consumer' ? principal.reach : null;
  return { user, sees: (where) => user === null || canSee(user, where) };
}
