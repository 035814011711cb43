// The console's read models beyond the incident list: the overview figures and the installers'
// test events (the commissioning round trip), both in the caller's jurisdictions.
import { Type } from '@sinclair/typebox';
import { overview, testEvents } from '../../console/queries.ts';
import { telemetryDropped } from '../../telemetry/dropped.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { scopeOf } from '../principal.ts';
import { idSegment, OverviewSchema, TestEventSchema, withErrorText } from '../schemas.ts';

const overviewRoute = defineRoute({
  method: 'get',
  path: '/api/v1/overview',
  tag: 'console',
  summary: 'Counts by level and status, on-time rate, level-1 acknowledged within 5 min (target 93 %), false alarms per device, offline devices and gateways — in the caller’s jurisdictions, last 30 days',
  access: 'reader',
  ok: { status: 200, description: 'Overview', schema: OverviewSchema },
  async handler({ principal, deps }) {
    return { json: { ...(await overview(deps.store, scopeOf(principal).user)), telemetryDropped: await telemetryDropped(deps.registry) } };
  },
});

const testEventsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/test-events',
  tag: 'console',
  summary: 'Installer test reports (recorded, never incidents) with the unit an alarm from the device would be routed to — the commissioning round trip',
  access: 'reader',
  query: Type.Object({
    gatewayId: idSegment('gateway'),
    deviceId: Type.Optional(idSegment('device')),
    since: Type.Optional(withErrorText(Type.Number({ minimum: 0, description: 'epoch ms (cloud receive time)' }), 'expected epoch milliseconds')),
  }),
  ok: { status: 200, description: 'Test events, newest first (≤ 50)', schema: Type.Object({ testEvents: Type.Array(TestEventSchema) }) },
  async handler({ query, principal, deps }) {
    const events = await testEvents(deps.store, { gatewayId: query.gatewayId, ...(query.deviceId ? { deviceId: query.deviceId } : {}), since: query.since ?? 0 });
    const scope = scopeOf(principal);
    return { json: { testEvents: events.filter((e) => scope.sees(e)) } };
  },
});

export const consoleRoutes: ApiRoute[] = [overviewRoute, testEventsRoute];
