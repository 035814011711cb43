// Operations: health for load balancers and orchestrators, Prometheus metrics, and the OpenAPI
// document itself.
import { Type } from '@sinclair/typebox';
import { pingDatabase } from '../../store/health.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { oneOf } from '../schemas.ts';

const Health = Type.Object({ status: oneOf(['ok', 'degraded']), db: oneOf(['ok', 'down']), broker: oneOf(['ok', 'down']) }, { $id: 'Health' });

const healthz = defineRoute({
  method: 'get',
  path: '/healthz',
  tag: 'operations',
  summary: 'Database and broker health',
  access: 'public',
  ok: { status: 200, description: 'Healthy', schema: Health },
  also: [{ status: 503, description: 'Degraded: the database or the broker connection is down', schema: Health }],
  async handler({ deps }) {
    const db = await pingDatabase(deps.store).then(
      () => 'ok' as const,
      (err: unknown) => {
        deps.log.warn({ err }, 'health check: database unreachable');
        return 'down' as const;
      },
    );
    const broker = deps.brokerConnected() ? ('ok' as const) : ('down' as const);
    const healthy = db === 'ok' && broker === 'ok';
    return { status: healthy ? 200 : 503, json: { status: healthy ? 'ok' : 'degraded', db, broker } };
  },
});

const metrics = defineRoute({
  method: 'get',
  path: '/metrics',
  tag: 'operations',
  summary: 'Prometheus metrics (a token when httpHost is not loopback)',
  access: 'metrics',
  ok: { status: 200, description: 'Prometheus text exposition', contentType: 'text/plain' },
  async handler({ deps }) {
    return { text: await deps.registry.metrics(), type: deps.registry.contentType };
  },
});

/** GET /api/v1/openapi.json; the document is built from the route list this route is part of. */
export function openApiRoute(document: () => object): ApiRoute {
  return defineRoute({
    method: 'get',
    path: '/api/v1/openapi.json',
    tag: 'operations',
    summary: 'This document (OpenAPI 3.1), generated from the route declarations',
    access: 'public',
    ok: { status: 200, description: 'OpenAPI 3.1', schema: Type.Object({ openapi: Type.Literal('3.1.0') }, { additionalProperties: true }) },
    async handler() {
      return { json: document() as { openapi: '3.1.0' } };
    },
  });
}

export const healthRoutes: ApiRoute[] = [healthz, metrics];
