// Every route of the cloud API, in one list: the app mounts it, the OpenAPI document is built
// from it. A route not in this list is neither served nor documented.
import type { ApiRoute } from '../deps.ts';
import { buildOpenApi, type OpenApiDocument } from '../openapi.ts';
import { ackLinkRoutes } from './ack-links.ts';
import { adminRoutes } from './admin.ts';
import { alarmKpiRoutes } from './alarm-kpis.ts';
import { authRoutes } from './auth.ts';
import { catalogueRoutes } from './catalogue.ts';
import { consoleRoutes } from './console.ts';
import { dispatchRoutes } from './dispatch.ts';
import { emqxRoutes } from './emqx.ts';
import { enrollmentRoutes } from './enrollment.ts';
import { gatewayRoutes } from './gateways.ts';
import { handoverRoutes } from './handover.ts';
import { healthRoutes, openApiRoute } from './health.ts';
import { incidentRoutes } from './incidents.ts';
import { mapRoutes } from './map.ts';
import { placeRoutes } from './places.ts';
import { userRoutes } from './users.ts';

export const ROUTES: readonly ApiRoute[] = [
  ...incidentRoutes,
  ...handoverRoutes,
  ...alarmKpiRoutes,
  ...dispatchRoutes,
  ...adminRoutes,
  ...userRoutes,
  ...placeRoutes,
  ...enrollmentRoutes,
  ...gatewayRoutes,
  ...emqxRoutes,
  ...authRoutes,
  ...consoleRoutes,
  ...mapRoutes,
  ...catalogueRoutes,
  ...ackLinkRoutes,
  ...healthRoutes,
  openApiRoute(() => OPENAPI),
];

export const OPENAPI: OpenApiDocument = buildOpenApi(ROUTES);
