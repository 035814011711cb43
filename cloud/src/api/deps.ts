// What route handlers may use: the cloud's parts, handed to createApp once.
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LoginGuard } from '../auth/login-guard.ts';
import type { Sessions } from '../auth/session.ts';
import type { CloudConfig } from '../config.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { EngineOptions, Outcome } from '../incidents/outcome.ts';
import type { CloudMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import type { LatestValues } from '../telemetry/latest.ts';
import { routesFor, type Route } from './route.ts';

export interface ApiDeps {
  store: Store;
  registry: Registry;
  log: Logger;
  /** True while ingest holds a live MQTT connection (embedded or external broker). */
  brokerConnected: () => boolean;
  config: CloudConfig;
  gateways: GatewayRegistry;
  engine: EngineOptions;
  /** Post-commit side effects of an action (socket.io, MQTT per unit, queue wake-up). */
  onOutcome: (outcome: Outcome) => void;
  /** Emits 'queued' when dispatch rows were written in this process. */
  queueSignal: EventEmitter;
  /** Latest value per point, as ingest last received it. */
  latest: LatestValues;
  /** Console session tokens. */
  sessions: Sessions;
  /** Login rate limits and the bounded password-hash queue. */
  logins: LoginGuard;
  /** After a logout: end the user's live sockets. */
  onLogout: (username: string) => void;
  /** Counters of the API's own (enrollment). */
  metrics: CloudMetrics;
  /** Where gateways connect: returned to an enrolled gateway with its credential. */
  gatewayBrokerUrl: string;
}

/** Declares one route of the cloud API (see route.ts). */
export const defineRoute = routesFor<ApiDeps>();
export type ApiRoute = Route<ApiDeps>;
