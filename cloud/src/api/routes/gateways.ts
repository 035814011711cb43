// Gateway lifecycle for admins (issue 11), the REST twin of `gridwatch-cloud gateway
// disable|enable|remove|rotate`: each change reaches every replica's broker (and Mosquitto, when
// the cloud manages it) through the registry's change notification and closes revoked sessions.
import { Type } from '@sinclair/typebox';
import { GatewayError, type Lifecycle } from '../../gateways/registry.ts';
import { allowCommunities, getPlacement, placeDevice, PlacementError } from '../../gateways/placement.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { idSegment, oneOf } from '../schemas.ts';

const GatewayParam = Type.Object({ gatewayId: idSegment('gateway') });
const LifecycleResult = Type.Object({ gatewayId: Type.String(), site: Type.String(), lifecycle: oneOf(['active', 'disabled', 'removed']) }, { $id: 'GatewayLifecycle' });
const NOT_FOUND = { 404: 'No such gateway (or it was removed)' } as const;

function notFound(err: unknown): never {
  if (err instanceof GatewayError) throw new HttpError(404, err.message);
  throw err;
}

function lifecycleRoute(verb: 'disable' | 'enable' | 'remove', lifecycle: Lifecycle, summary: string): ApiRoute {
  return defineRoute({
    method: 'post',
    path: `/api/v1/gateways/:gatewayId/${verb}`,
    tag: 'admin',
    summary,
    access: 'admin',
    params: GatewayParam,
    ok: { status: 200, description: 'The gateway’s new lifecycle', schema: LifecycleResult },
    errors: NOT_FOUND,
    async handler({ params, deps }) {
      const result = await deps.gateways.setLifecycle(params.gatewayId, lifecycle).catch(notFound);
      deps.log.warn({ gatewayId: params.gatewayId, lifecycle }, `gateway ${verb}d by admin`);
      return { json: result };
    },
  });
}

const rotate = defineRoute({
  method: 'post',
  path: '/api/v1/gateways/:gatewayId/rotate',
  tag: 'admin',
  summary: 'A new random secret for the gateway (shown once); sessions of the old one close on every replica',
  access: 'admin',
  params: GatewayParam,
  ok: { status: 200, description: 'The new credential', schema: Type.Object({ gatewayId: Type.String(), site: Type.String(), secret: Type.String(), secretVersion: Type.Integer() }) },
  errors: NOT_FOUND,
  async handler({ params, deps }) {
    const rotated = await deps.gateways.rotate(params.gatewayId).catch(notFound);
    deps.log.warn({ gatewayId: params.gatewayId, secretVersion: rotated.secretVersion }, 'gateway secret rotated by admin');
    return { json: rotated };
  },
});

const PlacementResult = Type.Object(
  {
    gatewayId: Type.String(),
    communities: Type.Array(Type.String()),
    devices: Type.Array(Type.Object({ deviceId: Type.String(), addressId: Type.Union([Type.String(), Type.Null()]) })),
  },
  { $id: 'GatewayPlacement' },
);

function placementRefused(err: unknown): never {
  if (err instanceof PlacementError) throw new HttpError(err.message.startsWith('gatewayId') ? 404 : 400, err.message);
  throw err;
}

const readPlacement = defineRoute({
  method: 'get',
  path: '/api/v1/gateways/:gatewayId/placement',
  tag: 'admin',
  summary: 'The communities a gateway may serve and its devices with their addresses on record',
  access: 'admin',
  params: GatewayParam,
  ok: { status: 200, description: 'The gateway’s placement', schema: PlacementResult },
  errors: NOT_FOUND,
  async handler({ params, deps }) {
    return { json: await getPlacement(deps.store, params.gatewayId).catch(placementRefused) };
  },
});

const setPlacement = defineRoute({
  method: 'post',
  path: '/api/v1/gateways/:gatewayId/placement',
  tag: 'admin',
  summary: 'Allow communities and place devices at addresses (each placement allows its address’s community)',
  access: 'admin',
  params: GatewayParam,
  body: Type.Object({
    communities: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })),
    devices: Type.Optional(Type.Array(Type.Object({ deviceId: Type.String({ minLength: 1, maxLength: 64 }), addressId: Type.String({ minLength: 1, maxLength: 64 }) }), { maxItems: 10000 })),
  }),
  ok: { status: 200, description: 'The gateway’s placement after the change', schema: PlacementResult },
  errors: { ...NOT_FOUND, 400: 'An unknown community or address' },
  async handler({ params, body, deps }) {
    const placed = await deps.store
      .transaction(async (tx) => {
        await allowCommunities(tx, params.gatewayId, body.communities ?? []);
        for (const d of body.devices ?? []) await placeDevice(tx, params.gatewayId, d.deviceId, d.addressId);
        return getPlacement(tx, params.gatewayId);
      })
      .catch(placementRefused);
    deps.log.warn({ gatewayId: params.gatewayId, communities: placed.communities }, 'gateway placement changed by admin');
    return { json: placed };
  },
});

export const gatewayRoutes: ApiRoute[] = [
  lifecycleRoute('disable', 'disabled', 'Refuse the gateway at CONNECT and close its sessions on every replica'),
  lifecycleRoute('enable', 'active', 'Allow a disabled gateway again'),
  lifecycleRoute('remove', 'removed', 'Remove the gateway for good (its incidents stay)'),
  rotate,
  readPlacement,
  setPlacement,
];
