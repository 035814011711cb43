// Wires the cloud together: store → registry → broker (embedded unless external) → ingest → HTTP
// API, console and live feed. Start order follows the data path so nothing receives messages
// before the stage after it exists; stop runs in reverse.
import http from 'node:http';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { createApp } from './api/app.ts';
import { EmbeddedBroker } from './broker/broker.ts';
import { resolveConfig, type CloudConfig } from './config.ts';
import { LiveFeed } from './console/live.ts';
import { GatewayRegistry } from './gateways/registry.ts';
import { Ingest } from './ingest/ingest.ts';
import { createLogger } from './log.ts';
import { CloudMetrics } from './metrics.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/store.ts';

export interface Cloud {
  readonly config: CloudConfig;
  /** Port the HTTP API, console and socket.io listen on (the real one when configured as 0). */
  readonly httpPort: number;
  /** Port of the embedded broker, or null when an external broker is used. */
  readonly mqttPort: number | null;
  /** e.g. http://127.0.0.1:8080 */
  readonly httpUrl: string;
  /** Where gateways connect: the embedded broker's mqtt:// URL, or the configured brokerUrl. */
  readonly mqttUrl: string;
  readonly store: Store;
  readonly gateways: GatewayRegistry;
  readonly metrics: CloudMetrics;
  readonly ingest: Ingest;
  readonly log: Logger;
  stop(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function closeHttp(server: http.Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

export async function startCloud(input: Partial<CloudConfig> = {}): Promise<Cloud> {
  const config = resolveConfig(input);
  const log = createLogger(config.logLevel);
  const metrics = new CloudMetrics();
  metrics.collectProcessMetrics();

  // Each started part registers its stop here, so a failure half-way unwinds what already runs.
  const stops: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => log.error({ err }, 'stop failed'));
    }
    stops.length = 0;
  };

  try {
    const store = await openStore(config, log.child({ component: 'store' }));
    stops.push(() => store.close());
    const gateways = new GatewayRegistry(store);

    let broker: EmbeddedBroker | null = null;
    let mqttUrl: string;
    let ingestLogin: { username: string; password: string | null };
    if (config.brokerUrl) {
      mqttUrl = config.brokerUrl;
      ingestLogin = { username: config.ingestUsername as string, password: config.ingestPassword };
    } else {
      const embedded = new EmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        registry: gateways,
        metrics,
        log: log.child({ component: 'broker' }),
      });
      await embedded.start();
      stops.push(() => embedded.stop());
      broker = embedded;
      mqttUrl = `mqtt://${urlHost(config.mqttHost)}:${embedded.port}`;
      ingestLogin = embedded.serviceCredentials;
    }

    const server = http.createServer();
    const live = new LiveFeed(server);
    const ingest = new Ingest({
      brokerUrl: mqttUrl,
      ...ingestLogin,
      store,
      registry: gateways,
      metrics,
      log: log.child({ component: 'ingest' }),
      onIncident: (incident) => live.emitIncident(incident),
    });
    await ingest.start();
    stops.push(() => ingest.stop());

    const app = createApp({
      store,
      registry: metrics.registry,
      log: log.child({ component: 'api' }),
      brokerConnected: () => ingest.connected && (broker === null || broker.running),
    });
    server.on('request', app);
    live.start();
    stops.push(() => closeHttp(server));
    stops.push(() => live.stop());
    server.listen(config.httpPort, config.httpHost);
    await once(server, 'listening');
    const address = server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;

    let stopping: Promise<void> | null = null;
    return {
      config,
      httpPort,
      mqttPort: broker ? broker.port : null,
      httpUrl: `http://${urlHost(config.httpHost)}:${httpPort}`,
      mqttUrl,
      store,
      gateways,
      metrics,
      ingest,
      log,
      stop: () => (stopping ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
