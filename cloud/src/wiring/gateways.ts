// The gateway registry and its change feed: rotations and disables from any replica clear caches
// and close revoked broker sessions.
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import { GatewayChangeFeed } from '../gateways/change-feed.ts';
import { GatewayRegistry } from '../gateways/registry.ts';
import type { Store } from '../store/store.ts';
import type { Stops } from './stops.ts';

export async function startGateways(store: Store, config: CloudConfig, log: Logger, stops: Stops): Promise<{ gateways: GatewayRegistry; gatewayChanges: GatewayChangeFeed }> {
  const gateways = new GatewayRegistry(store, { pepper: config.gatewayPepper });
  await gateways.prepare();
  const gatewayChanges = new GatewayChangeFeed({ store, databaseUrl: config.databaseUrl, registry: gateways, log: log.child({ component: 'gateways' }) });
  await gatewayChanges.start();
  stops.push(() => gatewayChanges.stop());
  return { gateways, gatewayChanges };
}
