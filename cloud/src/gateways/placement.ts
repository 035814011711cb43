// The cloud owns device placement (issue 11, item 3): which devices a gateway has, at which address,
// and which communities it may serve. An event is routed by the address on record, never by the
// edge's claim alone. Allowed communities come from the admin API / CLI, from the admin's device
// placements and from the enrollment token the gateway redeemed. Once a gateway has any, an event
// naming an address outside them, an address other than the one on record, or no address for an
// unplaced device is refused by id (PlacementRefused, which the incident logic turns into a
// rejection). A gateway with none is refused too when placement is required (requirePlacement,
// default off loopback); otherwise it keeps the old trust-the-edge behaviour, logged once per
// process, so existing installs keep routing until an admin places them (docs/DESIGN.md, Security).
import type { AlarmEvent } from '@gridwatch/protocol';
import { pino, type Logger } from 'pino';
import { getAddress, type Address } from '../routing/directory.ts';
import type { Queryable } from '../store/store.ts';
import type { GatewayRecord } from './registry.ts';

export class PlacementError extends Error {
  override readonly name = 'PlacementError';
}

export interface DevicePlacement {
  deviceId: string;
  addressId: string | null;
}

export interface GatewayPlacement {
  gatewayId: string;
  communities: string[];
  devices: DevicePlacement[];
}

/** Test seam only: when set, the check is skipped; the attack suite sets it to show its case can fail. */
export const placementTestHooks = { bypass: false };

/** How strict placement is (engine options, from the configuration). */
export interface PlacementPolicy {
  /** Refuse events of a gateway with no allowed community instead of trusting the edge. */
  require: boolean;
}

export const LENIENT_PLACEMENT: PlacementPolicy = { require: false };

// The cloud hands its own logger in at start (usePlacementLog); a bare engine (tests, tools) warns.
let log: Logger = pino({ name: 'gridwatch-cloud', level: 'warn' }).child({ component: 'placement' });
const warnedUnconfigured = new Set<string>();

export function usePlacementLog(logger: Logger): void {
  log = logger;
}

export async function allowedCommunities(db: Queryable, gatewayId: string): Promise<string[]> {
  const rows = await db.query<{ community: string }>('SELECT community FROM gateway_communities WHERE gateway_id = $1 ORDER BY community', [gatewayId]);
  return rows.map((r) => r.community);
}

async function requireGateway(db: Queryable, gatewayId: string): Promise<void> {
  const rows = await db.query<{ id: string }>("SELECT id FROM gateways WHERE id = $1 AND lifecycle <> 'removed'", [gatewayId]);
  if (rows.length === 0) throw new PlacementError(`gatewayId: ${gatewayId} is not registered`);
}

/** Adds communities the gateway may serve; each must exist in the address book. */
export async function allowCommunities(tx: Queryable, gatewayId: string, communities: readonly string[]): Promise<void> {
  await requireGateway(tx, gatewayId);
  for (const community of communities) {
    const known = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM addresses WHERE community = $1', [community]);
    if ((known[0]?.n ?? 0) === 0) throw new PlacementError(`communities: ${community} has no address in the address book`);
    await tx.query('INSERT INTO gateway_communities (gateway_id, community) VALUES ($1, $2) ON CONFLICT DO NOTHING', [gatewayId, community]);
  }
}

/** An admin's placement: records the device's address and allows that address's community. */
export async function placeDevice(tx: Queryable, gatewayId: string, deviceId: string, addressId: string): Promise<Address> {
  await requireGateway(tx, gatewayId);
  const address = await getAddress(tx, addressId);
  if (!address) throw new PlacementError(`addressId: ${addressId} is not in the address book`);
  await tx.query('INSERT INTO gateway_communities (gateway_id, community) VALUES ($1, $2) ON CONFLICT DO NOTHING', [gatewayId, address.community]);
  await tx.query(
    `INSERT INTO devices (gateway_id, device_id, address_id) VALUES ($1, $2, $3)
     ON CONFLICT (gateway_id, device_id) DO UPDATE SET address_id = EXCLUDED.address_id, updated_at = now()`,
    [gatewayId, deviceId, addressId],
  );
  return address;
}

export async function getPlacement(db: Queryable, gatewayId: string): Promise<GatewayPlacement> {
  await requireGateway(db, gatewayId);
  const devices = await db.query<{ device_id: string; address_id: string | null }>('SELECT device_id, address_id FROM devices WHERE gateway_id = $1 ORDER BY device_id', [gatewayId]);
  return { gatewayId, communities: await allowedCommunities(db, gatewayId), devices: devices.map((d) => ({ deviceId: d.device_id, addressId: d.address_id })) };
}

/** The old behaviour: the edge's claim binds (and rebinds) the device. */
async function trustEdge(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, recorded: string | null): Promise<Address | null> {
  if (!warnedUnconfigured.has(gateway.gatewayId)) {
    warnedUnconfigured.add(gateway.gatewayId);
    log.warn({ gatewayId: gateway.gatewayId }, 'gateway has no allowed communities: trusting the addresses its events name until an admin places its devices');
  }
  const claimed = event.addressId ?? null;
  if (claimed && claimed !== recorded) {
    await tx.query(
      `INSERT INTO devices (gateway_id, device_id, address_id) VALUES ($1, $2, $3)
       ON CONFLICT (gateway_id, device_id) DO UPDATE SET address_id = EXCLUDED.address_id, updated_at = now()`,
      [gateway.gatewayId, event.deviceId, claimed],
    );
  }
  const addressId = claimed ?? recorded;
  return addressId ? getAddress(tx, addressId) : null;
}

/** A placement check refused the event; ingest rejects it by id with this message and label. */
export class PlacementRefused extends Error {
  override readonly name = 'PlacementRefused';
  constructor(
    message: string,
    readonly label: 'foreign_address' | 'unplaced_device' | 'unplaced_gateway',
  ) {
    super(message);
  }
}

/**
 * The address an event is routed to: the one on record for its device. A first event of an
 * unplaced device may place it if its address lies inside the gateway's allowed communities.
 */
export async function resolvePlacement(tx: Queryable, gateway: GatewayRecord, event: AlarmEvent, policy: PlacementPolicy = LENIENT_PLACEMENT): Promise<Address | null> {
  const rows = await tx.query<{ address_id: string | null }>('SELECT address_id FROM devices WHERE gateway_id = $1 AND device_id = $2', [gateway.gatewayId, event.deviceId]);
  const recorded = rows[0]?.address_id ?? null;
  const communities = placementTestHooks.bypass ? [] : await allowedCommunities(tx, gateway.gatewayId);
  if (communities.length === 0 && policy.require && !placementTestHooks.bypass) {
    throw new PlacementRefused(
      `gatewayId: ${gateway.gatewayId} has no allowed community and placement is required; place it (POST /api/v1/gateways/${gateway.gatewayId}/placement, \`gridwatch-cloud gateway place\`, or an enrollment token with communities)`,
      'unplaced_gateway',
    );
  }
  if (communities.length === 0) return trustEdge(tx, gateway, event, recorded);
  const claimed = event.addressId ?? null;
  if (recorded) {
    if (claimed && claimed !== recorded) {
      throw new PlacementRefused(`addressId: ${claimed} is not the address on record for device ${event.deviceId} (${recorded})`, 'foreign_address');
    }
    return getAddress(tx, recorded);
  }
  if (!claimed) throw new PlacementRefused(`deviceId: ${event.deviceId} has no address on record and the event names none`, 'unplaced_device');
  const address = await getAddress(tx, claimed);
  if (!address || !communities.includes(address.community)) {
    throw new PlacementRefused(`addressId: ${claimed} lies outside the communities gateway ${gateway.gatewayId} may serve`, 'foreign_address');
  }
  await tx.query(
    `INSERT INTO devices (gateway_id, device_id, address_id) VALUES ($1, $2, $3)
     ON CONFLICT (gateway_id, device_id) DO UPDATE SET address_id = EXCLUDED.address_id, updated_at = now()`,
    [gateway.gatewayId, event.deviceId, claimed],
  );
  return address;
}
