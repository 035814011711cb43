// EMQX HTTP authentication and authorization hooks (EMQX 5 "HTTP Server" authenticator and
// authorizer). They answer for gateways (scrypt secrets, the topic ACL of broker/acl.ts) and the
// ingest login, behind the shared secret header.
import { Type } from '@sinclair/typebox';
import { clientIdAllowed, mayPublish, maySubscribe, type Identity } from '../../broker/acl.ts';
import { defineRoute, type ApiDeps, type ApiRoute } from '../deps.ts';
import { sameSecret } from '../principal.ts';
import { oneOf, requiredText, text } from '../schemas.ts';

const NO_HOOKS = { 404: 'Hooks disabled (no emqxSecret configured)' } as const;

async function identityOf(deps: ApiDeps, username: string): Promise<Identity | null> {
  const { ingestUsername } = deps.config;
  if (ingestUsername !== null && username === ingestUsername) return { kind: 'service', name: 'ingest' };
  const gateway = await deps.gateways.lookup(username);
  return gateway ? { kind: 'gateway', ...gateway } : null;
}

async function mayConnect(deps: ApiDeps, username: string, password: string, clientId: string | undefined): Promise<boolean> {
  const { ingestUsername, ingestPassword } = deps.config;
  if (ingestUsername !== null && username === ingestUsername) {
    return clientIdAllowed('service', username, clientId) && ingestPassword !== null && sameSecret(password, ingestPassword);
  }
  // Identity binding (broker/acl.ts): the client id must be the gateway id, checked before the secret.
  if (!clientIdAllowed('gateway', username, clientId)) return false;
  return (await deps.gateways.verify(username, password)) !== null;
}

const auth = defineRoute({
  method: 'post',
  path: '/api/v1/emqx/auth',
  tag: 'emqx',
  summary: 'EMQX HTTP authentication hook',
  access: 'emqx',
  body: Type.Object({ username: requiredText(128), password: requiredText(1024), clientid: Type.Optional(text(256)), peerhost: Type.Optional(Type.String()) }),
  ok: { status: 200, description: 'The verdict', schema: Type.Object({ result: oneOf(['allow', 'deny']), is_superuser: Type.Boolean() }) },
  errors: NO_HOOKS,
  async handler({ body, deps }) {
    const allow = await mayConnect(deps, body.username, body.password, body.clientid);
    if (!allow) deps.log.warn({ username: body.username, clientid: body.clientid, peerhost: body.peerhost }, 'emqx auth denied');
    return { json: { result: allow ? 'allow' : 'deny', is_superuser: false } };
  },
});

const acl = defineRoute({
  method: 'post',
  path: '/api/v1/emqx/acl',
  tag: 'emqx',
  summary: 'EMQX HTTP authorization hook',
  access: 'emqx',
  body: Type.Object({
    username: requiredText(128),
    topic: requiredText(1024),
    action: oneOf(['publish', 'subscribe']),
    clientid: Type.Optional(Type.String()),
    peerhost: Type.Optional(Type.String()),
  }),
  ok: { status: 200, description: 'The verdict', schema: Type.Object({ result: oneOf(['allow', 'deny']) }) },
  errors: NO_HOOKS,
  async handler({ body, deps }) {
    const identity = await identityOf(deps, body.username);
    const allowed = identity !== null && (body.action === 'publish' ? mayPublish(identity, body.topic) : maySubscribe(identity, body.topic));
    if (!allowed) deps.log.warn({ username: body.username, topic: body.topic, action: body.action }, 'emqx acl denied');
    return { json: { result: allowed ? 'allow' : 'deny' } };
  },
});

export const emqxRoutes: ApiRoute[] = [auth, acl];
