// Wires the cloud together: store → registry → broker (embedded unless external) → ingest → HTTP
// API, console and live feed. Start order follows the data path so nothing receives messages
// before the stage after it exists; stop runs in reverse.
import http from 'node:http';
import type { Express } from 'express';
import { EventEmitter, once } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { createApp } from './api/app.ts';
import { EmbeddedBroker } from './broker/broker.ts';
import { resolveConfig, type CloudConfig, type CloudConfigInput } from './config.ts';
import { LiveFeed } from './console/live.ts';
import { loadSessionKey, Sessions } from './auth/session.ts';
import { addUser, type NewUser, type User } from './auth/users.ts';
import { addConsumer, consumerForKey, type ConsumerCredentials, type NewConsumer } from './dispatch/consumers.ts';
import { GatewayRegistry } from './gateways/registry.ts';
import type { EngineOptions, Outcome } from './incidents/outcome.ts';
import { Ticker } from './incidents/ticker.ts';
import { Ingest } from './ingest/ingest.ts';
import { createLogger } from './log.ts';
import { CloudMetrics } from './metrics.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from './routing/directory.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/store.ts';
import { InfluxSink } from './telemetry/influx.ts';

/** MQTT topic on which each unit's dispatches are published (QoS 1), e.g. for Node-RED. */
export function unitTopic(unitId: string): string {
  return `dispatch/${unitId}/incidents`;
}

/** Data and consumers administration, the programmatic twin of the admin REST endpoints. */
export interface Directory {
  importAddressesCsv(csv: string): Promise<number>;
  importUnitsCsv(csv: string): Promise<number>;
  importRulesCsv(csv: string): Promise<number>;
  addConsumer(consumer: NewConsumer): Promise<ConsumerCredentials>;
  /** Console users (the programmatic twin of `gridwatch-cloud user add`). */
  addUser(user: NewUser): Promise<User>;
}

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
  /** The express application behind httpUrl (to embed the API elsewhere, or to list its routes). */
  readonly app: Express;
  readonly directory: Directory;
  /** Null when no InfluxDB is configured (latest values only, in `ingest.latest`). */
  readonly telemetry: InfluxSink | null;
  readonly ticker: Ticker;
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

export async function startCloud(input: CloudConfigInput = {}): Promise<Cloud> {
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

    const engine: EngineOptions = { deadlines: config.deadlines, autoCloseTypes: config.autoCloseTypes };
    let adapterPool: pg.Pool | null = null;
    // Replicas (a shared subscription group on an external broker) fan socket.io out through
    // PostgreSQL; a single process needs no adapter.
    if (config.databaseUrl && config.brokerUrl && config.ingestShareGroup) {
      const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 3 });
      pool.on('error', (err) => log.warn({ err }, 'socket.io adapter connection lost'));
      // The adapter's LISTEN client is checked out for good; its errors must not crash the process.
      pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'socket.io adapter connection lost')));
      adapterPool = pool;
      // The adapter may hold a LISTEN client it acquired while socket.io was closing; do not wait
      // for it forever (the process exits or the pool's clients are destroyed with the database).
      stops.push(() => Promise.race([pool.end(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]));
    }
    const sessions = new Sessions(store, await loadSessionKey(store, config.sessionSecret));
    const server = http.createServer();
    const live = new LiveFeed(server, {
      adapterPool,
      authenticate: (key) => consumerForKey(store, key),
      sessionUser: (token) => sessions.verify(token),
      openAccess: config.openAccess,
    });

    let telemetry: InfluxSink | null = null;
    if (config.influxUrl) {
      const sink = new InfluxSink({
        url: config.influxUrl,
        token: config.influxToken,
        org: config.influxOrg,
        bucket: config.influxBucket,
        log: log.child({ component: 'telemetry' }),
        onWritten: (n) => metrics.telemetryWritten.inc(n),
        onDropped: (n) => metrics.telemetryDropped.inc(n),
      });
      sink.start();
      stops.push(() => sink.stop());
      telemetry = sink;
    }

    // Post-commit side effects, shared by ingest, REST actions and the ticker.
    const queueSignal = new EventEmitter();
    queueSignal.setMaxListeners(0);
    let ticker: Ticker | null = null;
    let ingestRef: Ingest | null = null;
    const onOutcome = (outcome: Outcome): void => {
      for (const incident of outcome.incidents.values()) live.emitIncident(incident);
      for (const d of outcome.dispatches) {
        live.emitDispatch({ kind: d.kind, unitId: d.unitId, incident: d.incident });
        ingestRef?.publish(unitTopic(d.unitId), JSON.stringify({ kind: d.kind, unitId: d.unitId, incident: d.incident }));
      }
      if (outcome.queued) {
        queueSignal.emit('queued');
        ticker?.kick();
      }
    };

    const ingest = new Ingest({
      brokerUrl: mqttUrl,
      ...ingestLogin,
      store,
      registry: gateways,
      metrics,
      log: log.child({ component: 'ingest' }),
      engine,
      telemetry,
      shareGroup: config.brokerUrl ? config.ingestShareGroup : null,
      onOutcome,
    });
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
      onLogout: (username) => live.disconnectUser(username),
      metrics,
      gatewayBrokerUrl: config.gatewayBrokerUrl ?? mqttUrl,
    });
    server.on('request', app);
    live.start();
    stops.push(() => closeHttp(server));
    stops.push(() => live.stop());
    server.listen(config.httpPort, config.httpHost);
    await once(server, 'listening');
    const address = server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
    await ingest.start();
    ingestRef = ingest;
    stops.push(() => ingest.stop());

    const runningTicker = new Ticker({
      store,
      engine,
      metrics,
      log: log.child({ component: 'ticker' }),
      tickMs: config.tickMs,
      heartbeatTimeoutS: config.heartbeatTimeoutS,
      webhookMaxAttempts: config.webhookMaxAttempts,
      webhookBackoffMs: config.webhookBackoffMs,
      onOutcome,
    });
    runningTicker.start();
    ticker = runningTicker;
    stops.push(() => runningTicker.stop());


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
      app,
      directory: {
        importAddressesCsv: (csv) => store.transaction((tx) => importAddressesCsv(tx, csv)),
        importUnitsCsv: (csv) => store.transaction((tx) => importUnitsCsv(tx, csv)),
        importRulesCsv: (csv) => store.transaction((tx) => importRulesCsv(tx, csv)),
        addConsumer: (consumer) => addConsumer(store, consumer),
        addUser: (user) => addUser(store, user),
      },
      telemetry,
      ticker: runningTicker,
      log,
      stop: () => (stopping ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
