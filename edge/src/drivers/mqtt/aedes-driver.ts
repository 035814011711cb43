// The previous device front end, an embedded aedes broker, kept behind `broker: 'aedes'` (or
// GRIDWATCH_EDGE_MQTT_BROKER=aedes) for comparison; the lean front end (lean-broker.ts) is the default.
// Embedded MQTT broker (aedes) for devices on the local network. Each device authenticates with its
// own username/password and may publish only its own report topic; every accepted report is handed
// to the pipeline as a raw frame, and acknowledged (PUBACK) only after the pipeline committed it.
import { createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_MQTT_LIMITS, MqttServerGuard, constantTimeEqual } from '@gridwatch/protocol';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { BoundDevice } from '../../config/index.ts';
import { listen } from '../../http/listen.ts';
import type { Command, Driver, FrameSink } from '../types.ts';
import { downTopic, upTopic } from './topics.ts';
import type { MqttDriverOptions } from './driver.ts';


// CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (aedes maps them to MQTT 5 reason codes for v5 clients).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

// CONNACK 0x02: the client id is not the device's (identity binding, below).
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;

export class AedesMqttDriver implements Driver {
  readonly transport = 'mqtt' as const;
  private readonly options: MqttDriverOptions;
  private readonly byUsername: Map<string, BoundDevice>;
  private readonly deviceOf = new WeakMap<Client, string>();
  /** Live session per device id, to tell a takeover (counted) from a first connection. */
  private readonly liveSession = new Map<string, Client>();
  private readonly deviceIds: Set<string>;
  private readonly sockets = new Set<Socket>();
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private boundPort = 0;
  // Pre-authentication limits (packet size, pending sockets per address, failure back-off) shared
  // with the cloud's broker: a device on the LAN cannot exhaust the agent's memory or guess passwords.
  private readonly guard = new MqttServerGuard(DEFAULT_MQTT_LIMITS, (limit, address, detail) => {
    this.options.metrics.deviceConnectRefused.inc({ reason: limit });
    this.options.logger.warn({ address, limit, detail }, 'device connection closed by a limit');
  });

  constructor(options: MqttDriverOptions) {
    this.options = options;
    this.byUsername = new Map(
      options.devices.flatMap((d): Array<[string, BoundDevice]> => (d.device.mqtt === undefined ? [] : [[d.device.mqtt.username, d]])),
    );
    this.deviceIds = new Set([...this.byUsername.values()].map((d) => d.device.id));
  }

  /**
   * Counts a CONNECT under a configured device's client id: refused when it did not prove that
   * device's credential, owner when the device's own credential replaces its live session.
   */
  private countTakeover(client: Client, provedDeviceId: string | null): void {
    if (!this.deviceIds.has(client.id)) return;
    if (provedDeviceId !== client.id) {
      this.options.metrics.deviceTakeovers.inc({ result: 'refused' });
      this.options.logger.warn({ clientId: client.id, provedDeviceId }, "device refused at CONNECT: another device's client id or a wrong password");
      return;
    }
    const live = this.liveSession.get(client.id);
    if (live !== undefined && live !== client && !live.closed) this.options.metrics.deviceTakeovers.inc({ result: 'owner' });
    this.liveSession.set(client.id, client);
  }

  get listenPort(): number {
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  validateDevice({ device, profile }: BoundDevice): string | null {
    if (profile.transport !== 'mqtt') return `profile ${profile.id} is not an MQTT profile`;
    if (!device.mqtt) return 'no mqtt credentials';
    return null;
  }

  async start(sink: FrameSink): Promise<void> {
    const { logger, metrics } = this.options;
    const broker = await Aedes.createBroker({
      connectTimeout: DEFAULT_MQTT_LIMITS.connectTimeoutMs,
      authenticate: (client, username, password, done) => {
        if (this.guard.blockedForMs(client.conn) > 0) {
          metrics.deviceConnectRefused.inc({ reason: 'backoff' });
          done(authError('too many failed logins from this address', SERVER_UNAVAILABLE), false);
          return;
        }
        const bound = username === undefined ? undefined : this.byUsername.get(username);
        if (!bound?.device.mqtt || !constantTimeEqual(password, bound.device.mqtt.password)) {
          this.guard.failed(client.conn);
          this.countTakeover(client, null);
          metrics.deviceConnectRefused.inc({ reason: 'bad_credentials' });
          logger.warn({ clientId: client.id, username }, 'device refused at CONNECT: bad username or password');
          done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
          return;
        }
        // Identity binding: the client id is exactly the device id, so one device's credential
        // cannot take over another device's session (MQTT-3.1.4-2 would close the older one).
        if (!(this.options.clientIdAllowed ?? ((id, deviceId) => id === deviceId))(client.id, bound.device.id)) {
          this.guard.failed(client.conn);
          this.countTakeover(client, bound.device.id);
          metrics.deviceConnectRefused.inc({ reason: 'client_id' });
          logger.warn({ clientId: client.id, deviceId: bound.device.id }, 'device refused at CONNECT: client id is not the device id');
          done(authError(`client id must be the device id (${bound.device.id})`, IDENTIFIER_REJECTED), false);
          return;
        }
        this.guard.authenticated(client.conn);
        this.countTakeover(client, bound.device.id);
        this.deviceOf.set(client, bound.device.id);
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        // A null client is the broker itself (e.g. a will); devices only reach this with a client.
        if (!client) return done(null);
        const deviceId = this.deviceOf.get(client);
        if (deviceId !== undefined && packet.topic === upTopic(deviceId)) {
          // aedes writes the QoS 1 PUBACK right after this callback (lib/handlers/publish.js), so the
          // report goes through the pipeline here and the callback waits for its commit: a device's
          // report is acknowledged only once its events are durable. The sink never rejects.
          void Promise.resolve(sink({ deviceId, payload: Buffer.from(packet.payload), t: Date.now() })).then(() => done(null));
          return;
        }
        metrics.devicePublishRefused.inc({ device: deviceId ?? 'unknown' });
        logger.warn({ deviceId, topic: packet.topic }, 'device publish outside its topic refused');
        // MQTT 3.1.1 has no negative PUBACK, so an unauthorised publish closes the connection
        // (the Server "MUST ... close the Network Connection", §3.3.5 / MQTT-3.3.5-2).
        done(authError('not authorized', NOT_AUTHORIZED));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const deviceId = this.deviceOf.get(client);
        // A null subscription yields return code 0x80 (failure) in SUBACK, MQTT 3.1.1 §3.9.3.
        done(null, deviceId !== undefined && subscription.topic === downTopic(deviceId) ? subscription : null);
      },
    });
    broker.on('clientDisconnect', (client) => {
      if (this.liveSession.get(client.id) === client) this.liveSession.delete(client.id);
    });
    broker.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'device connection error'));
    this.broker = broker;

    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // PUBACKs written in one turn leave in one socket write (GuardedSocket._writev, issue 12).
      this.guard.accept(socket, (stream) => broker.handle(stream));
    });
    this.server = server;
    this.boundPort = await listen(server, this.options.port, this.options.host);
  }

  /** Push transport: devices report on their own. */
  async read(): Promise<void> {}

  /** Publishes `{point: value, …}` as JSON to `dev/{deviceId}/down` (QoS 1) for the device to act on. */
  async write(deviceId: string, commands: readonly Command[]): Promise<void> {
    const broker = this.broker;
    if (!broker) throw new Error('MQTT driver is not running');
    const payload = Buffer.from(JSON.stringify(Object.fromEntries(commands.map((c) => [c.point, c.value]))));
    await new Promise<void>((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic: downTopic(deviceId), payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = null;
    this.server = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
