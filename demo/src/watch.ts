// Plays an elderly-care smartwatch of the `generic/smartwatch-mqtt` profile over real MQTT: one
// JSON report on `dev/{deviceId}/up` per change and per heartbeat, through the edge's local broker.
import mqtt, { type MqttClient } from 'mqtt';

export interface WatchState {
  sos: boolean;
  fall: boolean;
  hr: number;
  battery: number;
  worn: boolean;
  loc: { lat: number; lon: number };
}

export class WatchSim {
  private client: MqttClient | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private state: WatchState;

  constructor(
    readonly deviceId: string,
    private readonly options: { brokerUrl: string; username: string; password: string; heartbeatMs: number; lat: number; lon: number },
  ) {
    this.state = { sos: false, fall: false, hr: 72, battery: 80, worn: true, loc: { lat: options.lat, lon: options.lon } };
  }

  async start(): Promise<void> {
    const { brokerUrl, username, password, heartbeatMs } = this.options;
    this.client = await mqtt.connectAsync(brokerUrl, { clientId: this.deviceId, username, password, reconnectPeriod: 1000, connectTimeout: 5000 });
    await this.report();
    this.heartbeat = setInterval(() => void this.report().catch(() => undefined), heartbeatMs);
    this.heartbeat.unref();
  }

  async set(change: Partial<WatchState>): Promise<void> {
    this.state = { ...this.state, ...change };
    await this.report();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.client?.endAsync();
    this.client = null;
  }

  private async report(): Promise<void> {
    await this.client?.publishAsync(`dev/${this.deviceId}/up`, JSON.stringify(this.state), { qos: 1 });
  }
}
