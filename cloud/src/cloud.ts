// Wires the cloud together: store → gateway registry → broker (embedded unless external) → ingest
// → HTTP API, console and live feed → jobs. Start order follows the data path so nothing receives
// messages before the stage after it exists; stop runs in reverse. Each part's wiring is a small
// module in wiring/; this file only orders them.
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp } from './api/app.ts';
import { ensureConsoleBundle } from './console/bundle.ts';
import { LoginGuard } from './auth/login-guard.ts';
import { loadSessionKey, Sessions } from './auth/session.ts';
import { resolveConfig, type CloudConfig, type CloudConfigInput } from './config.ts';
import { usePlacementLog } from './gateways/placement.ts';
import type { GatewayRegistry } from './gateways/registry.ts';
import { Ingest } from './ingest/ingest.ts';
import { createJobs, type Jobs } from './jobs/index.ts';
import { startConfiguredNotifications } from './jobs/notifications.ts';
import { createLogger } from './log.ts';
import { CloudMetrics } from './metrics.ts';
import { openStore } from './store/open.ts';
import { PgliteStore } from './store/pglite.ts';
import type { Store } from './store/store.ts';
import type { TelemetryPipeline } from './telemetry/worker-pool.ts';
import { startBroker } from './wiring/broker.ts';
import { directoryOf, type Directory } from './wiring/directory.ts';
import { engineOptions } from './wiring/engine.ts';
import { startGateways } from './wiring/gateways.ts';
import { closeHttp, listen, urlHost } from './wiring/http.ts';
import { createLive } from './wiring/live.ts';
import { outcomeFanOut } from './wiring/outcomes.ts';
import { Stops } from './wiring/stops.ts';
import { startTelemetry } from './wiring/telemetry.ts';

export { unitTopic } from './wiring/outcomes.ts';
export type { Directory } from './wiring/directory.ts';

export interface Cloud {
  readonly config: CloudConfig;
  /** Port the HTTP API, console and socket.io listen on (the real one when configured as 0). */
  readonly httpPort: number;
  /** Port of the embedded broker, or null when an external broker is used. */
  readonly mqttPort: number | null;
  /** MQTT over TLS port of the embedded broker, or null (no TLS listener or an external broker). */
  readonly mqttsPort: number | null;
  /** e.g. http://127.0.0.1:8080 */
  readonly httpUrl: string;
  /** Where gateways connect: the embedded broker's mqtt:// URL, or the configured brokerUrl. */
  readonly mqttUrl: string;
  readonly store: Store;
  readonly gateways: GatewayRegistry;
  readonly metrics: CloudMetrics;
  readonly ingest: Ingest;
  /** The express application behind httpUrl (to embed the API elsewhere, or to list its routes). */
  readonly app: Express;
  readonly directory: Directory;
  /** The TSDB side of the telemetry pipeline; null when no InfluxDB is configured (latest values only, in `ingest.latest`). */
  readonly telemetry: TelemetryPipeline | null;
  /** Deadlines, push deliveries and gateway supervision (jobs/). */
  readonly jobs: Jobs;
  readonly log: Logger;
  stop(): Promise<void>;
}

export async function startCloud(input: CloudConfigInput = {}): Promise<Cloud> {
  const config = resolveConfig(input);
  const log = createLogger(config.logLevel);
  const metrics = new CloudMetrics();
  metrics.collectProcessMetrics();
  const stops = new Stops(log);
  try {
    return await assemble(config, log, metrics, stops);
  } catch (err) {
    await stops.unwind();
    throw err;
  }
}

async function assemble(config: CloudConfig, log: Logger, metrics: CloudMetrics, stops: Stops): Promise<Cloud> {
  const store = await openStore(config, log.child({ component: 'store' }));
  stops.push(() => store.close());
  usePlacementLog(log.child({ component: 'placement' }));
  const { gateways, gatewayChanges } = await startGateways(store, config, log, stops);
  const { broker, mqttUrl, ingestLogin } = await startBroker({ config, gateways, gatewayChanges, metrics, log }, stops);
  const engine = engineOptions(config);
  const sessions = new Sessions(store, await loadSessionKey(store, config.sessionSecret));
  const logins = LoginGuard.create(config, log.child({ component: 'auth' }));
  stops.push(() => logins.stop());
  const { server, live } = createLive(store, sessions, config, log, stops);
  const pipeline = await startTelemetry(config, metrics, log, stops);
  const telemetry = config.influxUrl ? pipeline : null;
  const { onOutcome, queueSignal, sinks } = outcomeFanOut(live);
  const ingest = new Ingest({
    brokerUrl: mqttUrl,
    ...ingestLogin,
    store,
    registry: gateways,
    metrics,
    log: log.child({ component: 'ingest' }),
    engine,
    telemetry: pipeline,
    shareGroup: config.brokerUrl ? config.ingestShareGroup : null,
    onOutcome,
  });
  // The console's browser bundle, built here when a checkout's sources changed (console/bundle.ts).
  await ensureConsoleBundle(log.child({ component: 'console' }));
  // HTTP first: with EMQX the broker authenticates ingest's own CONNECT through this server's
  // /api/v1/emqx/auth, and /healthz reports 503 until ingest is connected.
  const app = createApp({
    store,
    registry: metrics.registry,
    log: log.child({ component: 'api' }),
    brokerConnected: () => ingest.connected && (broker === null || broker.running),
    config,
    gateways,
    engine,
    onOutcome,
    queueSignal,
    latest: ingest.latest,
    sessions,
    logins,
    onLogout: (username) => live.disconnectUser(username),
    metrics,
    gatewayBrokerUrl: config.gatewayBrokerUrl ?? mqttUrl,
  });
  server.on('request', app);
  live.start();
  stops.push(() => closeHttp(server));
  stops.push(() => live.stop());
  const httpPort = await listen(server, config.httpPort, config.httpHost);
  // Admin commands find a running embedded-store cloud's API through its data folder's lock.
  if (store instanceof PgliteStore) store.advertise(`http://${urlHost(config.httpHost)}:${httpPort}`);
  await ingest.start();
  sinks.publish = (topic, payload) => ingest.publish(topic, payload);
  stops.push(() => ingest.stop());
  const jobs = createJobs({ store, engine, metrics, log: log.child({ component: 'jobs' }), config, onOutcome });
  jobs.start();
  sinks.queued = () => jobs.deliveries.kick();
  stops.push(() => jobs.stop());
  stops.push(await startConfiguredNotifications({ store, metrics, log: log.child({ component: 'notifications' }), everyMs: config.tickMs }));

  let stopping: Promise<void> | null = null;
  return {
    config,
    httpPort,
    mqttPort: broker ? broker.port : null,
    mqttsPort: broker ? broker.tlsPort : null,
    httpUrl: `http://${urlHost(config.httpHost)}:${httpPort}`,
    mqttUrl,
    store,
    gateways,
    metrics,
    ingest,
    app,
    directory: directoryOf(store),
    telemetry,
    jobs,
    log,
    stop: () => (stopping ??= stops.unwind()),
  };
}
