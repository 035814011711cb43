// The local MQTT front end for devices on the gateway's network. Each device authenticates with its
// own username/password and may publish only its own report topic; every accepted report is handed
// to the pipeline as a raw frame, and acknowledged (PUBACK) only after the pipeline committed it.
// The protocol is lean-broker.ts (issue 12: aedes cost ~2× the CPU per report); the previous aedes
// broker stays selectable (`broker: 'aedes'`, or GRIDWATCH_EDGE_MQTT_BROKER=aedes) for comparison.
import { DEFAULT_MQTT_LIMITS, constantTimeEqual } from '@gridwatch/protocol';
import type { Logger } from 'pino';
import type { BoundDevice } from '../../config/index.ts';
import type { EdgeMetrics } from '../../metrics.ts';
import type { Command, Driver, FrameSink } from '../types.ts';
import { AedesMqttDriver } from './aedes-driver.ts';
import { LeanBroker, type LeanBrokerPolicy } from './lean-broker.ts';
import type { ConnectPacket } from './packets.ts';

export interface MqttDriverOptions {
  host: string;
  /** 0 picks a free port; read `port` after start(). */
  port: number;
  devices: BoundDevice[];
  logger: Logger;
  metrics: EdgeMetrics;
  /**
   * Test seam only (the agent never sets it): replaces the identity-binding rule so the attack
   * suite can show its case fails with the rule off (test/security/identity.test.ts).
   */
  clientIdAllowed?: (clientId: string, deviceId: string) => boolean;
  /** The protocol implementation; default the lean front end (GRIDWATCH_EDGE_MQTT_BROKER overrides). */
  broker?: 'lean' | 'aedes';
}

// CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (mapped to MQTT 5 reason codes for v5 clients).
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

/** Credentials, identity binding and counting for the lean front end. */
class DevicePolicy implements LeanBrokerPolicy {
  private readonly byUsername: Map<string, BoundDevice>;
  private readonly deviceIds: Set<string>;
  sink: FrameSink = () => undefined;

  constructor(private readonly options: MqttDriverOptions) {
    this.byUsername = new Map(options.devices.flatMap((d): Array<[string, BoundDevice]> => (d.device.mqtt === undefined ? [] : [[d.device.mqtt.username, d]])));
    this.deviceIds = new Set([...this.byUsername.values()].map((d) => d.device.id));
  }

  authenticate(c: ConnectPacket, _address: string, blocked: boolean): { deviceId: string } | { refuse: number } {
    const { metrics, logger } = this.options;
    if (blocked) {
      metrics.deviceConnectRefused.inc({ reason: 'backoff' });
      return { refuse: SERVER_UNAVAILABLE };
    }
    const bound = c.username === undefined ? undefined : this.byUsername.get(c.username);
    if (!bound?.device.mqtt || !constantTimeEqual(c.password, bound.device.mqtt.password)) {
      this.refusedTakeover(c.clientId, null);
      metrics.deviceConnectRefused.inc({ reason: 'bad_credentials' });
      logger.warn({ clientId: c.clientId, username: c.username }, 'device refused at CONNECT: bad username or password');
      return { refuse: BAD_USERNAME_OR_PASSWORD };
    }
    // Identity binding: the client id is exactly the device id, so one device's credential
    // cannot take over another device's session (MQTT-3.1.4-2 would close the older one).
    if (!(this.options.clientIdAllowed ?? ((id, deviceId) => id === deviceId))(c.clientId, bound.device.id)) {
      this.refusedTakeover(c.clientId, bound.device.id);
      metrics.deviceConnectRefused.inc({ reason: 'client_id' });
      logger.warn({ clientId: c.clientId, deviceId: bound.device.id }, 'device refused at CONNECT: client id is not the device id');
      return { refuse: IDENTIFIER_REJECTED };
    }
    return { deviceId: bound.device.id };
  }

  /** A CONNECT under a configured device's client id that did not prove that device's credential. */
  private refusedTakeover(clientId: string, provedDeviceId: string | null): void {
    if (!this.deviceIds.has(clientId) || provedDeviceId === clientId) return;
    this.options.metrics.deviceTakeovers.inc({ result: 'refused' });
    this.options.logger.warn({ clientId, provedDeviceId }, "device refused at CONNECT: another device's client id or a wrong password");
  }

  report(deviceId: string, payload: Buffer): unknown {
    return this.sink({ deviceId, payload, t: Date.now() });
  }

  publishRefused(deviceId: string, topic: string): void {
    this.options.metrics.devicePublishRefused.inc({ device: deviceId });
    this.options.logger.warn({ deviceId, topic }, 'device publish outside its topic refused');
  }

  takeover(): void {
    this.options.metrics.deviceTakeovers.inc({ result: 'owner' });
  }

  limit(limit: 'pending_per_address' | 'packet_size', address: string, detail: string): void {
    this.options.metrics.deviceConnectRefused.inc({ reason: limit });
    this.options.logger.warn({ address, limit, detail }, 'device connection closed by a limit');
  }

  connectionError(clientId: string, message: string): void {
    this.options.logger.debug({ clientId, err: message }, 'device connection error');
  }
}

class LeanMqttDriver implements Driver {
  readonly transport = 'mqtt' as const;
  private readonly policy: DevicePolicy;
  private broker: LeanBroker | null = null;

  constructor(private readonly options: MqttDriverOptions) {
    this.policy = new DevicePolicy(options);
  }

  get listenPort(): number {
    return this.broker?.port ?? 0;
  }

  validateDevice({ device, profile }: BoundDevice): string | null {
    if (profile.transport !== 'mqtt') return `profile ${profile.id} is not an MQTT profile`;
    if (!device.mqtt) return 'no mqtt credentials';
    return null;
  }

  async start(sink: FrameSink): Promise<void> {
    this.policy.sink = sink;
    const broker = new LeanBroker({ host: this.options.host, port: this.options.port, limits: { ...DEFAULT_MQTT_LIMITS }, policy: this.policy });
    await broker.start();
    this.broker = broker;
  }

  async read(): Promise<void> {}

  async write(deviceId: string, commands: readonly Command[]): Promise<void> {
    if (!this.broker) throw new Error('MQTT driver is not running');
    this.broker.command(deviceId, Buffer.from(JSON.stringify(Object.fromEntries(commands.map((c) => [c.point, c.value])))));
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    this.broker = null;
    await broker?.stop();
  }
}

export class MqttDriver implements Driver {
  readonly transport = 'mqtt' as const;
  private readonly impl: Driver;

  constructor(options: MqttDriverOptions) {
    const kind = options.broker ?? (process.env.GRIDWATCH_EDGE_MQTT_BROKER === 'aedes' ? 'aedes' : 'lean');
    this.impl = kind === 'aedes' ? new AedesMqttDriver(options) : new LeanMqttDriver(options);
  }

  get listenPort(): number {
    return this.impl.listenPort ?? 0;
  }

  get port(): number {
    return this.listenPort;
  }

  validateDevice(device: BoundDevice): string | null {
    return this.impl.validateDevice(device);
  }

  start(sink: FrameSink): Promise<void> {
    return this.impl.start(sink);
  }

  /** Push transport: devices report on their own. */
  read(deviceIds: readonly string[]): Promise<void> {
    return this.impl.read(deviceIds);
  }

  /** Publishes `{point: value, …}` as JSON to `dev/{deviceId}/down` for the device to act on (rejects when it is not subscribed). */
  write(deviceId: string, commands: readonly Command[]): Promise<void> {
    return this.impl.write(deviceId, commands);
  }

  stop(): Promise<void> {
    return this.impl.stop();
  }
}
