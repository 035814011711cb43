// REST side of enrollment: an admin issues a one-time token (POST /api/v1/enrollment-tokens); the
// agent exchanges it for its credential (POST /api/v1/enroll, no other authentication: the token is
// the authentication). Every exchange is counted in gridwatch_enrollments_total{result}.
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { BadRequest, optionalInt, optionalStr, requireBody, requiredStr } from '../api/body.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { EnrollmentError, issueToken, MAX_TOKEN_TTL_S, redeemToken } from './store.ts';

export interface EnrollmentRouteOptions {
  store: Store;
  gateways: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
  /** Admin check of the app (Bearer admin token when configured). */
  admin: RequestHandler;
  jsonBody: RequestHandler;
  /** Where enrolled gateways connect, returned with the credential. */
  brokerUrl: string;
}

const STATUS: Record<EnrollmentError['kind'], number> = { bad_request: 400, unknown_token: 401, used_token: 410, expired_token: 410, refused: 409 };

export function enrollmentRoutes(options: EnrollmentRouteOptions): express.Router {
  const { store, gateways, metrics, log, admin, jsonBody, brokerUrl } = options;
  const router = express.Router();

  router.post('/api/v1/enrollment-tokens', admin, jsonBody, async (req, res) => {
    const body = requireBody(req.body);
    const gatewayId = requiredStr(body, 'gatewayId', { max: 64 });
    const site = requiredStr(body, 'site', { max: 64 });
    const ttlS = optionalInt(body, 'ttlS', 1, MAX_TOKEN_TTL_S);
    try {
      const issued = await issueToken(store, gateways, { gatewayId, site, ...(ttlS === undefined ? {} : { ttlS }) });
      metrics.enrollmentTokensIssued.inc();
      log.info({ gatewayId, site, expiresAt: issued.expiresAt }, 'enrollment token issued');
      res.status(201).json(issued);
    } catch (err) {
      if (err instanceof EnrollmentError) return void res.status(STATUS[err.kind]).json({ error: err.message });
      throw err;
    }
  });

  router.post('/api/v1/enroll', jsonBody, async (req, res) => {
    let token: string;
    let expectGatewayId: string | undefined;
    try {
      const body = requireBody(req.body);
      token = requiredStr(body, 'token', { max: 256 });
      expectGatewayId = optionalStr(body, 'gatewayId', { max: 64 });
    } catch (err) {
      if (err instanceof BadRequest) metrics.enrollments.inc({ result: 'bad_request' });
      throw err;
    }
    try {
      const enrolled = await redeemToken(store, gateways, token, expectGatewayId === undefined ? {} : { expectGatewayId });
      metrics.enrollments.inc({ result: enrolled.created ? 'enrolled' : 'rotated' });
      log.info({ gatewayId: enrolled.gatewayId, site: enrolled.site, created: enrolled.created, ip: req.ip }, 'gateway enrolled');
      res.json({ gatewayId: enrolled.gatewayId, site: enrolled.site, username: enrolled.username, password: enrolled.password, brokerUrl });
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      metrics.enrollments.inc({ result: err.kind });
      log.warn({ reason: err.kind, ip: req.ip }, 'enrollment refused');
      res.status(STATUS[err.kind]).json({ error: err.message });
    }
  });

  return router;
}
