// Simulated smoke detectors the soak drives, one per source, over the real wire protocols:
// - MQTT: a `generic/smoke-mqtt` detector publishing its full state (QoS 1) to the edge's local
//   broker; a change is acknowledged by the PUBACK (MQTT 3.1.1 §4.3.2).
// - Modbus: a `generic/smoke-modbus` unit of a ModbusTcpSim (sim/); a polled device gets no ack,
//   so a change counts as acknowledged when the unit has answered a second request after it: the
//   poll that read it has completed its cycle.
// Each change carries its tag in smoke_density, so the stored event names the change it came from.
import mqtt, { type MqttClient } from 'mqtt';
import type { ModbusDeviceSim } from '@gridwatch/sim';
import type { Change } from './ledger.ts';

export interface SoakDevice {
  readonly gatewayId: string;
  readonly deviceId: string;
  readonly transport: 'mqtt' | 'modbus';
  /** Applies a change and resolves when the device has it acknowledged; rejects at `deadline` (epoch ms). */
  apply(change: Change, deadline: number): Promise<void>;
  /** The change tag carried by an event's readings, or null. */
  tagOf(readings: Record<string, unknown> | null): number | null;
  stop(): Promise<void>;
}

export const ALARM_TYPE = 'smoke';

export class MqttSmokeDetector implements SoakDevice {
  readonly transport = 'mqtt' as const;
  readonly gatewayId: string;
  readonly deviceId: string;
  private readonly client: MqttClient;

  constructor(gatewayId: string, deviceId: string, brokerUrl: string, password: string) {
    this.gatewayId = gatewayId;
    this.deviceId = deviceId;
    // mqtt.js keeps an unacknowledged QoS 1 report and sends it again after a reconnect.
    this.client = mqtt.connect(brokerUrl, { clientId: deviceId, username: deviceId, password, reconnectPeriod: 250, connectTimeout: 2000 });
    this.client.on('error', () => undefined);
  }

  apply(change: Change, deadline: number): Promise<void> {
    const state = { alarm: change.action === 'raise', fault: false, tamper: false, battery: 96, smoke_density: change.tag, test: false };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.deviceId}: no PUBACK for change ${change.tag}`)), Math.max(0, deadline - Date.now()));
      this.client.publish(`dev/${this.deviceId}/up`, JSON.stringify(state), { qos: 1 }, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  tagOf(readings: Record<string, unknown> | null): number | null {
    const v = readings?.smoke_density;
    return typeof v === 'number' ? Math.round(v) : null;
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export class ModbusSmokeDetector implements SoakDevice {
  readonly transport = 'modbus' as const;
  readonly gatewayId: string;
  readonly deviceId: string;
  private readonly sim: ModbusDeviceSim;
  private stopped = false;

  constructor(gatewayId: string, deviceId: string, sim: ModbusDeviceSim) {
    this.gatewayId = gatewayId;
    this.deviceId = deviceId;
    this.sim = sim;
    sim.set('smoke_alarm', false);
    sim.set('battery', 96);
  }

  async apply(change: Change, deadline: number): Promise<void> {
    this.sim.set('smoke_alarm', change.action === 'raise');
    // smoke_density has scale 0.01: the raw register holds the tag itself.
    this.sim.setRaw('input', 1, [change.tag]);
    const base = this.sim.requests;
    while (this.sim.requests < base + 2) {
      if (this.stopped || Date.now() > deadline) throw new Error(`${this.deviceId}: change ${change.tag} not read by a completed poll`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  tagOf(readings: Record<string, unknown> | null): number | null {
    const v = readings?.smoke_density;
    return typeof v === 'number' ? Math.round(v * 100) : null;
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}
