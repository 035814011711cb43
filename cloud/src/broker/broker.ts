// Embedded MQTT broker (aedes on a net.Server) for the one-command setup. Gateways log in with
// username = gateway id and password = secret; the ingest client logs in with a service identity
// whose secret is generated at start and lives only in memory.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CloudMetrics } from '../metrics.ts';
import { mayPublish, maySubscribe, type Identity } from './acl.ts';

/** Cannot collide with a gateway id: ids must start with a letter or digit. */
export const SERVICE_USERNAME = '_gridwatch-ingest';

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes.
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export interface BrokerOptions {
  host: string;
  port: number;
  registry: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
}

export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private server: net.Server | null = null;
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly serviceSecret = randomBytes(32).toString('base64url');
  private boundPort: number | null = null;

  constructor(private readonly options: BrokerOptions) {}

  /** Credentials for the cloud's own ingest client. */
  get serviceCredentials(): { username: string; password: string } {
    return { username: SERVICE_USERNAME, password: this.serviceSecret };
  }

  get port(): number {
    if (this.boundPort === null) throw new Error('broker not started');
    return this.boundPort;
  }

  get running(): boolean {
    return this.aedes !== null && !this.aedes.closed;
  }

  async start(): Promise<void> {
    const { log, metrics } = this.options;
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (identity) => {
            this.identities.set(client, identity);
            metrics.mqttConnections.inc({ result: 'accepted' });
            done(null, true);
          },
          (err: unknown) => {
            metrics.mqttConnections.inc({ result: 'refused' });
            if (err instanceof Error && 'returnCode' in err) {
              log.warn({ clientId: client.id, username, reason: err.message }, 'mqtt connect refused');
              done(err as AuthenticateError, false);
            } else {
              // The registry failed (database down): "server unavailable" lets the gateway retry.
              log.error({ clientId: client.id, username, err }, 'mqtt authentication failed');
              done(authError('server unavailable', SERVER_UNAVAILABLE), false);
            }
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        // A null client is the broker itself (will messages are checked when the client publishes them).
        const identity = client ? this.identities.get(client) : undefined;
        if (!client || (identity && mayPublish(identity, packet.topic))) return done(null);
        metrics.aclDenied.inc({ action: 'publish' });
        log.warn({ clientId: client.id, identity, topic: packet.topic }, 'mqtt publish denied');
        // MQTT 3.1.1 has no negative PUBACK; aedes closes the connection (§3.3.5).
        done(new Error(`publish to ${packet.topic} not allowed`));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const identity = this.identities.get(client);
        if (identity && maySubscribe(identity, subscription.topic)) return done(null, subscription);
        metrics.aclDenied.inc({ action: 'subscribe' });
        log.warn({ clientId: client.id, identity, topic: subscription.topic }, 'mqtt subscribe denied');
        // A null subscription makes aedes answer SUBACK 0x80 (failure, MQTT 3.1.1 §3.9.3).
        done(null, null);
      },
    });
    aedes.on('client', () => metrics.mqttClients.inc());
    aedes.on('clientDisconnect', () => metrics.mqttClients.dec());
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    this.aedes = aedes;

    const server = net.createServer((socket) => aedes.handle(socket));
    server.listen(this.options.port, this.options.host);
    try {
      await once(server, 'listening');
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      this.aedes = null;
      throw err;
    }
    this.server = server;
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = null;
    this.server = null;
    // aedes.close() disconnects every client; the server then has no sockets left to wait for.
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    if (!username || !password) throw authError('missing username or password', NOT_AUTHORIZED);
    if (username === SERVICE_USERNAME) {
      const expected = Buffer.from(this.serviceSecret);
      if (password.length === expected.length && timingSafeEqual(password, expected)) return { kind: 'service', name: 'ingest' };
      throw authError('bad service credentials', BAD_USERNAME_OR_PASSWORD);
    }
    const gateway = await this.options.registry.verify(username, password.toString('utf8'));
    if (!gateway) throw authError('bad gateway credentials', BAD_USERNAME_OR_PASSWORD);
    return { kind: 'gateway', gatewayId: gateway.gatewayId, site: gateway.site };
  }
}
