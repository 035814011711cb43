// Embedded MQTT broker (aedes) for the one-command setup, plain TCP and optionally MQTT over TLS.
// Gateways log in with username = gateway id, password = secret, and client id = the gateway id
// exactly (identity binding: no one can take over another gateway's session). A second connection
// of the same gateway replaces the first (MQTT-3.1.4-2) only if it proves the current secret; it
// is counted. The ingest client logs in with a service identity whose secret lives only in memory.
// Limits before authentication (packet size, CONNECT timeout, pending sockets per address, failure
// back-off) come from protocol/src/mqtt-limits.ts.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { DEFAULT_MQTT_LIMITS, MqttServerGuard, constantTimeEqual, randomSecret, topicFor, type MqttLimits } from '@gridwatch/protocol';
import type { GatewayChangeFeed } from '../gateways/change-feed.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CloudMetrics } from '../metrics.ts';
import { SERVICE_CLIENT_PREFIX, clientIdAllowed, mayPublish, maySubscribe, type Identity } from './acl.ts';
import { BrokerSecurityMetrics } from './security-metrics.ts';
import { GatewaySessions } from './sessions.ts';
import { TelemetryGate } from './telemetry-gate.ts';

/** Cannot collide with a gateway id: ids must start with a letter or digit. */
export const SERVICE_USERNAME = '_gridwatch-ingest';

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

class RefusedError extends Error {
  constructor(
    message: string,
    readonly returnCode: number,
    readonly reason: string,
    /** Counts toward the address's failure back-off. */
    readonly isFailure = true,
  ) {
    super(message);
  }
}

export interface BrokerTls {
  port: number;
  certFile: string;
  keyFile: string;
}

export interface BrokerOptions {
  host: string;
  port: number;
  registry: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
  /** MQTT over TLS listener on the same host; absent = plain only. */
  tls?: BrokerTls | null;
  limits?: Partial<MqttLimits>;
  /** Rotation/disable notifications; absent = sessions are not revoked (single-process tests). */
  changes?: GatewayChangeFeed | null;
  /**
   * Test seam only (never set by the cloud's wiring): replaces an identity or topic rule of acl.ts
   * so the attack suite can show its case fails with the rule off (test/security/README.md).
   */
  rules?: Partial<BrokerRules>;
  /** Telemetry back-pressure (telemetry-gate.ts); defaults: window 4 messages, hold 20 s. */
  telemetryGate?: { window: number; holdMs: number };
  /**
   * A gateway's telemetry messages read and held without PUBACK while the gate has no room, so its
   * alarms behind them on the same connection are read at once (default 2, the edge's telemetry
   * window); beyond it the broker stops reading the connection. 0 = stop at the first held message.
   */
  telemetryHeldPerGateway?: number;
}

/**
 * Small next to loopback TCP's socket buffers, and enough that ingest never waits for its next
 * batch. 8 (ingest's own in-flight window) was measured: no higher rate, 30–60 MB more RSS.
 */
const TELEMETRY_WINDOW = 4;
/** Below the edge's 30 s keepalive, so a held gateway is not taken for dead. */
const TELEMETRY_HOLD_MS = 20_000;
/** The edge's telemetry window (edge/src/uplink/uplink.ts): an edge never has more unacknowledged. */
const TELEMETRY_HELD_PER_GATEWAY = 2;

/** PUBACK of `messageId`: 3.1.1's form, also valid in MQTT 5 (reason code 0 and no properties may be omitted, §3.4.2.1). */
function pubackBytes(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

/** The identity-binding and topic rules the broker enforces (acl.ts). */
export interface BrokerRules {
  clientIdAllowed: typeof clientIdAllowed;
  mayPublish: typeof mayPublish;
  maySubscribe: typeof maySubscribe;
}

export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private servers: net.Server[] = [];
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly serviceSecret = randomSecret();
  private readonly limits: MqttLimits;
  private readonly security: BrokerSecurityMetrics;
  private readonly sessions: GatewaySessions;
  private readonly guard: MqttServerGuard;
  private readonly rules: BrokerRules;
  private readonly gate: TelemetryGate<Client>;
  /** Payloads of telemetry the gate dropped: acknowledged to the gateway, forwarded to no one. */
  private readonly droppedPayloads = new WeakSet<object>();
  /** Per gateway connection: telemetry messages read and held without PUBACK (telemetryHeldPerGateway). */
  private readonly heldRead = new WeakMap<Client, number>();
  private boundPort: number | null = null;
  private boundTlsPort: number | null = null;
  private readonly onChange = (gatewayId: string): void => this.recheck(() => this.sessions.recheck(gatewayId));
  private readonly onResync = (): void => this.recheck(() => this.sessions.recheckAll());

  constructor(private readonly options: BrokerOptions) {
    this.limits = { ...DEFAULT_MQTT_LIMITS, ...options.limits };
    this.rules = { clientIdAllowed, mayPublish, maySubscribe, ...options.rules };
    this.security = new BrokerSecurityMetrics(options.metrics.registry);
    this.sessions = new GatewaySessions(options.registry, this.security, options.log);
    this.gate = new TelemetryGate<Client>({
      window: options.telemetryGate?.window ?? TELEMETRY_WINDOW,
      holdMs: options.telemetryGate?.holdMs ?? TELEMETRY_HOLD_MS,
      registry: options.metrics.registry,
      onDrop: (reason, messages) => options.log.warn({ reason, messages }, 'telemetry dropped by policy at the broker'),
    });
    this.guard = new MqttServerGuard(this.limits, (limit, address, detail) => {
      this.security.limitClosed.inc({ limit });
      options.log.warn({ address, limit, detail }, 'mqtt connection closed by a limit');
    });
  }

  /** Credentials for the cloud's own ingest client. */
  get serviceCredentials(): { username: string; password: string } {
    return { username: SERVICE_USERNAME, password: this.serviceSecret };
  }

  get port(): number {
    if (this.boundPort === null) throw new Error('broker not started');
    return this.boundPort;
  }

  /** The MQTT over TLS port, or null without a TLS listener. */
  get tlsPort(): number | null {
    return this.boundTlsPort;
  }

  get running(): boolean {
    return this.aedes !== null && !this.aedes.closed;
  }

  async start(): Promise<void> {
    const aedes = await this.createAedes();
    this.aedes = aedes;
    try {
      const plain = net.createServer((socket) => this.accept(socket));
      this.boundPort = await this.listen(plain, this.options.port);
      const tlsOptions = this.options.tls;
      if (tlsOptions) {
        const [cert, key] = await Promise.all([readFile(tlsOptions.certFile), readFile(tlsOptions.keyFile)]);
        const secure = tls.createServer({ cert, key, minVersion: 'TLSv1.2' }, (socket) => this.accept(socket));
        this.boundTlsPort = await this.listen(secure, tlsOptions.port);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.options.changes?.on('change', this.onChange);
    this.options.changes?.on('resync', this.onResync);
  }

  async stop(): Promise<void> {
    const { aedes, servers } = this;
    this.options.changes?.off('change', this.onChange);
    this.options.changes?.off('resync', this.onResync);
    this.aedes = null;
    this.servers = [];
    this.gate.close();
    // aedes.close() disconnects every client; the servers then have no sockets left to wait for.
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private async listen(server: net.Server, port: number): Promise<number> {
    server.listen(port, this.options.host);
    await once(server, 'listening');
    this.servers.push(server);
    const address = server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  private recheck(run: () => Promise<void>): void {
    run().catch((err: unknown) => this.options.log.error({ err }, 'gateway session re-check failed'));
  }

  /** Pre-authentication limits, then the socket goes to aedes through the packet-size guard. */
  private accept(socket: net.Socket): void {
    const aedes = this.aedes;
    if (!aedes) return void socket.destroy();
    this.guard.accept(socket, (stream) => aedes.handle(stream));
  }

  private async createAedes(): Promise<Aedes> {
    const { log, metrics } = this.options;
    const aedes = await Aedes.createBroker({
      connectTimeout: this.limits.connectTimeoutMs,
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (identity) => {
            this.identities.set(client, identity);
            this.guard.authenticated(client.conn);
            metrics.mqttConnections.inc({ result: 'accepted' });
            done(null, true);
          },
          (err: unknown) => done(this.refuse(client, username, err), false),
        );
      },
      authorizePublish: (client, packet, done) => {
        // A null client is the broker itself (will messages are checked when the client publishes them).
        const identity = client ? this.identities.get(client) : undefined;
        if (!client || (identity && this.rules.mayPublish(identity, packet.topic))) return this.gated(client, identity, packet, done);
        metrics.aclDenied.inc({ action: 'publish' });
        log.warn({ clientId: client.id, identity, topic: packet.topic }, 'mqtt publish denied');
        // MQTT 3.1.1 has no negative PUBACK; aedes closes the connection (§3.3.5).
        done(new Error(`publish to ${packet.topic} not allowed`));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const identity = this.identities.get(client);
        if (identity && this.rules.maySubscribe(identity, subscription.topic)) return done(null, subscription);
        metrics.aclDenied.inc({ action: 'subscribe' });
        log.warn({ clientId: client.id, identity, topic: subscription.topic }, 'mqtt subscribe denied');
        // A null subscription makes aedes answer SUBACK 0x80 (failure, MQTT 3.1.1 §3.9.3).
        done(null, null);
      },
      authorizeForward: (_client, packet) => (this.droppedPayloads.has(packet.payload as object) ? null : packet),
    });
    this.watchTelemetryConsumers(aedes);
    aedes.on('client', () => metrics.mqttClients.inc());
    aedes.on('clientDisconnect', (client) => {
      metrics.mqttClients.dec();
      const identity = this.identities.get(client);
      if (identity?.kind === 'gateway') this.sessions.closed(client, identity.gatewayId);
    });
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    return aedes;
  }

  /**
   * A gateway's QoS 1 telemetry waits for room at ingest (telemetry-gate.ts); everything else passes
   * at once. While it waits, the connection is read on (readOn) so the gateway's alarms behind it
   * are not held; past the per-gateway allowance the connection is held as well (bounded memory).
   */
  private gated(client: Client | null, identity: Identity | undefined, packet: PublishPacket, done: (error?: Error | null) => void): void {
    if (!client || identity?.kind !== 'gateway' || packet.qos !== 1 || packet.topic !== topicFor(identity, 'telemetry')) return done(null);
    if (this.gate.tryAdmit()) return done(null);
    if ((this.heldRead.get(client) ?? 0) < (this.options.telemetryHeldPerGateway ?? TELEMETRY_HELD_PER_GATEWAY)) return this.readOn(client, packet, done);
    void this.gate.admit().then((admitted) => {
      if (!admitted) this.droppedPayloads.add(packet.payload as object);
      // A gateway that left while held: aedes cannot PUBACK and will not forward, so the slot is not used.
      else if (!client.connected) this.gate.release();
      done(null);
    });
  }

  /**
   * Holds the message without holding the connection: aedes is told it is QoS 0 to no one (no
   * PUBACK, forwarded to nobody), and once the gate admits it, this publishes a copy as the gateway
   * would have and writes the PUBACK itself. Held too long: PUBACKed and dropped (counted by the
   * gate). The gateway left meanwhile: neither, its edge resends the unacknowledged message.
   */
  private readOn(client: Client, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const { messageId, topic, payload } = packet;
    // A new Buffer object over the same bytes: the held original's payload is marked as dropped.
    const copy: PublishPacket = { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload.subarray(0), qos: 1, retain: false, dup: false };
    if (messageId !== undefined) copy.messageId = messageId;
    this.droppedPayloads.add(packet.payload as object);
    Object.assign(packet, { qos: 0, retain: false });
    this.heldRead.set(client, (this.heldRead.get(client) ?? 0) + 1);
    done(null);
    void this.gate.admit().then((admitted) => {
      this.heldRead.set(client, Math.max(0, (this.heldRead.get(client) ?? 1) - 1));
      const aedes = this.aedes;
      if (!client.connected || !aedes) {
        if (admitted) this.gate.release();
        return;
      }
      const acknowledge = (): void => void (messageId !== undefined && client.conn.write(pubackBytes(messageId)));
      if (!admitted) return acknowledge();
      aedes.publish(copy, (err?: Error) => {
        if (err) this.options.log.warn({ clientId: client.id, err: err.message }, 'held telemetry not forwarded; the edge will resend');
        else acknowledge();
      });
    });
  }

  /** Ingest's telemetry client (a service subscription to telemetry at QoS 1) holds the gate's slots; its PUBACKs free them. */
  private watchTelemetryConsumers(aedes: Aedes): void {
    aedes.on('subscribe', (subscriptions, client) => {
      if (this.identities.get(client)?.kind !== 'service') return;
      if (subscriptions.some((s) => s.qos >= 1 && s.topic.endsWith('/telemetry'))) this.gate.addConsumer(client);
    });
    aedes.on('ack', (_packet, client) => this.gate.acked(client));
    aedes.on('clientDisconnect', (client) => this.gate.removeConsumer(client));
  }

  private refuse(client: Client, username: string | undefined, err: unknown): AuthenticateError {
    const { log, metrics } = this.options;
    metrics.mqttConnections.inc({ result: 'refused' });
    if (err instanceof RefusedError) {
      this.security.refused.inc({ reason: err.reason });
      if (err.isFailure) this.guard.failed(client.conn);
      log.warn({ clientId: client.id, username, reason: err.message }, 'mqtt connect refused');
      return Object.assign(new Error(err.message), { returnCode: err.returnCode }) as AuthenticateError;
    }
    // The registry failed (database down): "server unavailable" lets the gateway retry.
    this.security.refused.inc({ reason: 'unavailable' });
    log.error({ clientId: client.id, username, err }, 'mqtt authentication failed');
    return Object.assign(new Error('server unavailable'), { returnCode: SERVER_UNAVAILABLE }) as AuthenticateError;
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    const waitMs = this.guard.blockedForMs(client.conn);
    if (waitMs > 0) throw new RefusedError(`too many failed logins from this address; retry in ${Math.ceil(waitMs / 1000)} s`, SERVER_UNAVAILABLE, 'backoff', false);
    if (!username || !password) throw new RefusedError('missing username or password', NOT_AUTHORIZED, 'no_credentials');
    if (username === SERVICE_USERNAME) {
      if (!constantTimeEqual(password, this.serviceSecret)) throw new RefusedError('bad service credentials', BAD_USERNAME_OR_PASSWORD, 'bad_credentials');
      if (!this.rules.clientIdAllowed('service', username, client.id)) throw new RefusedError(`client id: must start with ${SERVICE_CLIENT_PREFIX}`, IDENTIFIER_REJECTED, 'client_id');
      return { kind: 'service', name: 'ingest' };
    }
    // Identity binding: the client id is exactly the gateway id (checked before the secret, so a
    // mismatch costs nothing and never reaches the session table).
    if (!this.rules.clientIdAllowed('gateway', username, client.id)) throw new RefusedError(`client id: must be the gateway id (${username})`, IDENTIFIER_REJECTED, 'client_id');
    const login = await this.options.registry.verify(username, password.toString('utf8'));
    if (!login) throw new RefusedError('bad gateway credentials', BAD_USERNAME_OR_PASSWORD, 'bad_credentials');
    this.sessions.opened(client, login);
    return { kind: 'gateway', gatewayId: login.gatewayId, site: login.site };
  }
}
