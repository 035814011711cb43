// The MQTT side: the embedded broker unless an external one (EMQX, Mosquitto) is configured, and
// the login ingest uses on it.
import type { Logger } from 'pino';
import { EmbeddedBroker } from '../broker/broker.ts';
import { DynsecSync } from '../broker/dynsec.ts';
import { brokerSecurityOptions } from '../broker/options.ts';
import type { CloudConfig } from '../config.ts';
import type { GatewayChangeFeed } from '../gateways/change-feed.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CloudMetrics } from '../metrics.ts';
import { urlHost } from './http.ts';
import type { Stops } from './stops.ts';

export interface BrokerPart {
  /** Null with an external broker. */
  broker: EmbeddedBroker | null;
  mqttUrl: string;
  ingestLogin: { username: string; password: string | null };
}

export interface BrokerDeps {
  config: CloudConfig;
  gateways: GatewayRegistry;
  gatewayChanges: GatewayChangeFeed;
  metrics: CloudMetrics;
  log: Logger;
}

export async function startBroker({ config, gateways, gatewayChanges, metrics, log }: BrokerDeps, stops: Stops): Promise<BrokerPart> {
  if (config.brokerUrl) {
    const ingestLogin = { username: config.ingestUsername as string, password: config.ingestPassword };
    if (config.dynsecUsername !== null && config.dynsecPassword !== null) {
      // Mosquitto: gateway logins, client ids and topic rules live in its dynamic-security plugin.
      const dynsec = new DynsecSync({ brokerUrl: config.brokerUrl, username: config.dynsecUsername, password: config.dynsecPassword, registry: gateways, changes: gatewayChanges, log: log.child({ component: 'dynsec' }) });
      await dynsec.start();
      stops.push(() => dynsec.stop());
      await dynsec.bootstrap(ingestLogin.password === null ? null : { username: ingestLogin.username, password: ingestLogin.password });
    }
    return { broker: null, mqttUrl: config.brokerUrl, ingestLogin };
  }
  const broker = new EmbeddedBroker({
    host: config.mqttHost,
    port: config.mqttPort,
    registry: gateways,
    metrics,
    log: log.child({ component: 'broker' }),
    ...brokerSecurityOptions(config),
    changes: gatewayChanges,
    telemetryHeldPerGateway: config.mqttTelemetryHeldPerGateway,
  });
  await broker.start();
  stops.push(() => broker.stop());
  return { broker, mqttUrl: `mqtt://${urlHost(config.mqttHost)}:${broker.port}`, ingestLogin: broker.serviceCredentials };
}
