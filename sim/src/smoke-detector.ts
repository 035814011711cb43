// Plays an infrared smoke detector of the `generic/smoke-mqtt` profile over real MQTT: it connects
// to the edge's local broker with its own credentials and publishes its full state to
// `dev/{deviceId}/up` on every change and on each heartbeat, as NB-IoT style detectors do.
import mqtt, { type MqttClient } from 'mqtt';

export interface SmokeDetectorOptions {
  brokerUrl: string;
  deviceId: string;
  username: string;
  password: string;
  /** Heartbeat period; 0 disables periodic reports (tests drive state changes explicitly). */
  heartbeatMs?: number;
}

export interface SmokeDetectorState {
  alarm: boolean;
  fault: boolean;
  tamper: boolean;
  battery: number;
  smoke_density: number;
  test: boolean;
}

const NORMAL: SmokeDetectorState = { alarm: false, fault: false, tamper: false, battery: 96, smoke_density: 0.01, test: false };

export class SmokeDetectorSim {
  readonly deviceId: string;
  private readonly options: SmokeDetectorOptions;
  private client: MqttClient | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private state: SmokeDetectorState = { ...NORMAL };

  constructor(options: SmokeDetectorOptions) {
    this.options = options;
    this.deviceId = options.deviceId;
  }

  get current(): Readonly<SmokeDetectorState> {
    return this.state;
  }

  get topic(): string {
    return `dev/${this.deviceId}/up`;
  }

  async start(): Promise<void> {
    const { brokerUrl, deviceId, username, password } = this.options;
    this.client = await mqtt.connectAsync(brokerUrl, {
      // The edge's local broker binds the client id to the device id (one identity, one session).
      clientId: deviceId,
      username,
      password,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    await this.report();
    const heartbeatMs = this.options.heartbeatMs ?? 0;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => void this.report().catch(() => undefined), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.client?.endAsync();
    this.client = null;
  }

  /** Smoke enters the chamber: density rises over the alarm threshold and the alarm bit sets. */
  async alarm(): Promise<void> {
    this.state = { ...this.state, alarm: true, smoke_density: 0.21 };
    await this.report();
  }

  /** The air clears and the detector resets to normal. */
  async clear(): Promise<void> {
    this.state = { ...this.state, alarm: false, test: false, smoke_density: 0.01 };
    await this.report();
  }

  /** The installer presses the test button: the alarm bit sets together with the test flag. */
  async selfTest(): Promise<void> {
    this.state = { ...this.state, alarm: true, test: true };
    await this.report();
  }

  async setFault(fault: boolean): Promise<void> {
    this.state = { ...this.state, fault };
    await this.report();
  }

  /** Sends bytes the profile cannot decode, as a detector with a corrupt firmware might. */
  async publishRaw(payload: string | Buffer): Promise<void> {
    await this.requireClient().publishAsync(this.topic, payload, { qos: 1 });
  }

  private async report(): Promise<void> {
    await this.requireClient().publishAsync(this.topic, JSON.stringify(this.state), { qos: 1 });
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error(`simulated detector ${this.deviceId} is not started`);
    return this.client;
  }
}
