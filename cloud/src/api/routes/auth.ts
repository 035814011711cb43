// Console login, logout and "who am I". The session token travels as an HttpOnly cookie for
// browsers and in the login answer for Bearer use (CLIs).
import { Type } from '@sinclair/typebox';
import { clearCookieHeader, setCookieHeader } from '../../auth/session.ts';
import { HashQueueFull } from '../../auth/hash-queue.ts';
import { authenticate, bumpSessionEpoch, type User } from '../../auth/users.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { PublicUser, requiredText } from '../schemas.ts';

/** A user as the API shows them: no password hash, no session epoch. */
export function publicUser(user: User): { username: string; displayName: string; role: string; jurisdictions: string[] } {
  return { username: user.username, displayName: user.displayName, role: user.role, jurisdictions: user.jurisdictions };
}

const login = defineRoute({
  method: 'post',
  path: '/api/v1/auth/login',
  tag: 'auth',
  summary: 'Console login: sets the HttpOnly session cookie and returns the same token for Bearer use (CLIs)',
  access: 'public',
  body: Type.Object({ username: requiredText(64), password: requiredText(1024) }),
  ok: { status: 200, description: 'Logged in', schema: Type.Object({ user: PublicUser, token: Type.String() }) },
  errors: {
    401: 'Authentication failed: username or password not recognised',
    429: 'Too many failed logins for this username or from this address; see Retry-After',
    503: 'Too many password checks at once; retry shortly',
  },
  async handler({ body, deps, req }) {
    // Limits first (auth/login-guard.ts): a blocked attempt costs no password hash.
    const address = req.ip ?? 'unknown';
    const verdict = await deps.logins.check(body.username, address);
    if (!verdict.allowed) {
      deps.log.warn({ username: body.username, ip: address, reason: verdict.reason }, 'console login rate-limited');
      throw new HttpError(429, `login: too many failed attempts for this ${verdict.reason}; retry in ${verdict.retryAfterS} s`, { 'retry-after': String(verdict.retryAfterS) });
    }
    const user = await authenticate(deps.store, body.username, body.password, deps.logins.hashes).catch((err: unknown) => {
      if (err instanceof HashQueueFull) throw new HttpError(503, `login: ${err.message}`, { 'retry-after': '1' });
      throw err;
    });
    if (!user) {
      await deps.logins.failed(body.username, address);
      deps.log.warn({ username: body.username, ip: address }, 'console login refused');
      throw new HttpError(401, 'username or password: not recognised');
    }
    await deps.logins.succeeded(user.username);
    const token = deps.sessions.issue(user);
    return { json: { user: publicUser(user), token }, headers: { 'set-cookie': setCookieHeader(token, deps.config.secureCookies) } };
  },
});

const logout = defineRoute({
  method: 'post',
  path: '/api/v1/auth/logout',
  tag: 'auth',
  summary: 'Ends every session of the user (revokes their tokens, closes their sockets)',
  access: 'principal',
  ok: { status: 204, description: 'Logged out' },
  async handler({ principal, deps }) {
    if (principal.kind === 'user') {
      await bumpSessionEpoch(deps.store, principal.user.username);
      deps.onLogout(principal.user.username);
    }
    return { noContent: true, headers: { 'set-cookie': clearCookieHeader() } };
  },
});

const me = defineRoute({
  method: 'get',
  path: '/api/v1/auth/me',
  tag: 'auth',
  summary: 'The logged-in user',
  access: 'principal',
  ok: { status: 200, description: 'The user, and whether anonymous callers may read', schema: Type.Object({ user: PublicUser, openAccess: Type.Boolean() }) },
  async handler({ principal, deps }) {
    if (principal.kind !== 'user') throw new HttpError(401, 'session: not logged in');
    return { json: { user: publicUser(principal.user), openAccess: deps.config.openAccess } };
  },
});

export const authRoutes: ApiRoute[] = [login, logout, me];
