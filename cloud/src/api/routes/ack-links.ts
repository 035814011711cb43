// The acknowledge page of notifications (issue #14): a signed, single-use, expiring link opens a
// one-screen page (GET, changes nothing) whose buttons act (POST) — 确认 / 到场 / 误报 — through
// the incident lifecycle, audited with the person and the channel. No login: the link is the key.
import { Type } from '@sinclair/typebox';
import { TransitionError } from '../../incidents/lifecycle.ts';
import { Outcome } from '../../incidents/outcome.ts';
import { actFromLink, LINK_ACTIONS, linkKey, viewLink } from '../../notify/ack.ts';
import { LinkError } from '../../notify/links.ts';
import { linkPage, resultPage } from '../../notify/page.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { oneOf } from '../schemas.ts';

const HTML = 'text/html; charset=utf-8';
const Token = Type.String({ minLength: 20, maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$' });
const REFUSED = { 403: 'The link was altered (signature)', 404: 'Not a link this cloud issued', 410: 'The link expired or was used already', 409: 'The incident’s status does not allow the action' } as const;

const REASONS = { signature: '签名不符 (altered)', expired: '链接已过期 (expired)', used: '链接已使用 (used already)', malformed: '链接格式错误 (malformed)', unknown: '链接不存在 (unknown)' } as const;

/** Refusals answer as the document declares every error: JSON `{ error }` with the status. */
function refusal(err: unknown): never {
  if (err instanceof LinkError) {
    const status = err.reason === 'signature' ? 403 : err.reason === 'expired' || err.reason === 'used' ? 410 : 404;
    throw new HttpError(status, `link: ${REASONS[err.reason]}`);
  }
  if (err instanceof TransitionError) throw new HttpError(err.kind === 'not_found' ? 404 : 409, err.message);
  throw err;
}

const page = defineRoute({
  method: 'get',
  path: '/ack/:token',
  tag: 'notifications',
  summary: 'The acknowledge page a notification links to (signed, expiring link; no login)',
  access: 'public',
  params: Type.Object({ token: Token }),
  ok: { status: 200, description: 'One-screen page with 确认 / 到场 / 误报', contentType: HTML },
  errors: REFUSED,
  async handler({ params, deps }) {
    try {
      const view = await viewLink(deps.store, await linkKey(deps.store), params.token, Date.now());
      return { text: linkPage(view.incident, params.token, view.holder.usedAt !== null), type: HTML };
    } catch (err) {
      refusal(err);
    }
  },
});

const act = defineRoute({
  method: 'post',
  path: '/ack/:token/:action',
  tag: 'notifications',
  summary: 'Acts on the incident from the link (single use), audited with the person and channel',
  access: 'public',
  params: Type.Object({ token: Token, action: oneOf(LINK_ACTIONS) }),
  ok: { status: 200, description: 'What was done', contentType: HTML },
  errors: REFUSED,
  async handler({ params, deps }) {
    const outcome = new Outcome();
    try {
      const view = await actFromLink(deps.store, deps.engine, outcome, { key: await linkKey(deps.store), token: params.token, action: params.action, now: Date.now() });
      deps.onOutcome(outcome);
      return { text: resultPage(params.action, view.incident), type: HTML };
    } catch (err) {
      refusal(err);
    }
  },
});

export const ackLinkRoutes: ApiRoute[] = [page, act];
