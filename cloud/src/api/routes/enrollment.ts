// Gateway enrollment: an admin issues a one-time token; the agent exchanges it for its credential
// (no other authentication: the token is the authentication). Every exchange is counted in
// gridwatch_enrollments_total{result}.
import { Type } from '@sinclair/typebox';
import { EnrollmentError, issueToken, MAX_TOKEN_TTL_S, redeemToken } from '../../enrollment/store.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { requiredText, text } from '../schemas.ts';

const STATUS: Record<EnrollmentError['kind'], number> = { bad_request: 400, unknown_token: 401, used_token: 410, expired_token: 410, refused: 409 };

const issue = defineRoute({
  method: 'post',
  path: '/api/v1/enrollment-tokens',
  tag: 'enrollment',
  summary: 'Issue a one-time enrollment token for a gateway (new, or existing: enrolling rotates its secret). The token is shown once; only its hash is stored',
  access: 'admin',
  body: Type.Object(
    {
      gatewayId: requiredText(64),
      site: requiredText(64),
      ttlS: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_TTL_S, default: 86400 })),
      communities: Type.Optional(Type.Array(requiredText(64), { maxItems: 1000, description: 'Communities the gateway may serve once enrolled (placement); each must be in the address book' })),
    },
    { $id: 'EnrollmentTokenRequest' },
  ),
  ok: {
    status: 201,
    description: 'Issued',
    schema: Type.Object(
      { token: Type.String({ description: 'gwe_…; shown once' }), gatewayId: Type.String(), site: Type.String(), communities: Type.Array(Type.String()), expiresAt: Type.String({ format: 'date-time' }) },
      { $id: 'EnrollmentToken' },
    ),
  },
  errors: { 409: 'The gateway id belongs to another site' },
  async handler({ body, deps }) {
    try {
      const issued = await issueToken(deps.store, deps.gateways, body);
      deps.metrics.enrollmentTokensIssued.inc();
      deps.log.info({ gatewayId: body.gatewayId, site: body.site, communities: issued.communities, expiresAt: issued.expiresAt }, 'enrollment token issued');
      return { status: 201, json: issued };
    } catch (err) {
      if (err instanceof EnrollmentError) throw new HttpError(STATUS[err.kind], err.message);
      throw err;
    }
  },
});

const Enrollment = Type.Object(
  {
    gatewayId: Type.String(),
    site: Type.String(),
    username: Type.String({ description: 'MQTT username (the gateway id)' }),
    password: Type.String({ description: 'MQTT password; stored hashed, shown once' }),
    brokerUrl: Type.String({ description: 'Where the gateway connects (gatewayBrokerUrl, else the cloud’s broker URL)' }),
  },
  { $id: 'Enrollment' },
);

const enroll = defineRoute({
  method: 'post',
  path: '/api/v1/enroll',
  tag: 'enrollment',
  summary: 'Exchange an enrollment token (once, before it expires) for the gateway’s own MQTT credential; the token is the authentication',
  access: 'public',
  body: Type.Object({ token: requiredText(256), gatewayId: Type.Optional(text(64, { description: 'Refuse (400, token kept) unless the token is for this gateway' })) }),
  ok: { status: 200, description: 'Enrolled', schema: Enrollment },
  errors: { 401: 'Authentication failed: token not recognised', 409: 'The gateway id belongs to another site', 410: 'Token already used or expired' },
  onInvalid(deps) {
    deps.metrics.enrollments.inc({ result: 'bad_request' });
  },
  async handler({ body, deps, req }) {
    try {
      const enrolled = await redeemToken(deps.store, deps.gateways, body.token, body.gatewayId === undefined ? {} : { expectGatewayId: body.gatewayId });
      deps.metrics.enrollments.inc({ result: enrolled.created ? 'enrolled' : 'rotated' });
      deps.log.info({ gatewayId: enrolled.gatewayId, site: enrolled.site, created: enrolled.created, communities: enrolled.communities, ip: req.ip }, 'gateway enrolled');
      return { json: { gatewayId: enrolled.gatewayId, site: enrolled.site, username: enrolled.username, password: enrolled.password, brokerUrl: deps.gatewayBrokerUrl } };
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      deps.metrics.enrollments.inc({ result: err.kind });
      deps.log.warn({ reason: err.kind, ip: req.ip }, 'enrollment refused');
      throw new HttpError(STATUS[err.kind], err.message);
    }
  },
});

export const enrollmentRoutes: ApiRoute[] = [issue, enroll];
