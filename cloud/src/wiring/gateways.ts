// The gateway registry and its change feed: rotations and disables from any replica clear caches
// and close revoked broker sessions.
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import { GatewayChangeFeed } from '../gateways/change-feed.ts';
import { EmqxSessionKicker } from '../gateways/emqx-sessions.ts';
import { GatewayRegistry } from '../gateways/registry.ts';
import type { Store } from '../store/store.ts';
import type { Stops } from './stops.ts';

export async function startGateways(store: Store, config: CloudConfig, log: Logger, stops: Stops): Promise<{ gateways: GatewayRegistry; gatewayChanges: GatewayChangeFeed }> {
  const gateways = new GatewayRegistry(store, { pepper: config.gatewayPepper });
  await gateways.prepare();
  const gatewayChanges = new GatewayChangeFeed({ store, databaseUrl: config.databaseUrl, registry: gateways, log: log.child({ component: 'gateways' }) });
  await gatewayChanges.start();
  stops.push(() => gatewayChanges.stop());
  if (config.emqxApiUrl !== null && config.emqxApiKey !== null && config.emqxApiSecret !== null) {
    // EMQX keeps authenticated sessions open; its management API closes those of a revoked credential.
    const kicker = new EmqxSessionKicker({ url: config.emqxApiUrl, apiKey: config.emqxApiKey, apiSecret: config.emqxApiSecret }, gatewayChanges, log.child({ component: 'emqx-sessions' }));
    kicker.start();
    stops.push(async () => kicker.stop());
  }
  return { gateways, gatewayChanges };
}
