// Latest value per gateway/device/point, in memory. Telemetry storage (InfluxDB) comes later; this
// is what the console and rules need now, and it is rebuilt from the next batches after a restart.
import type { Reading, ReadingValue } from '@gridwatch/protocol';

export interface LatestReading {
  value: ReadingValue;
  t: number;
}

export class LatestValues {
  private readonly values = new Map<string, LatestReading>();

  private static key(gatewayId: string, deviceId: string, point: string): string {
    return `${gatewayId}\u0000${deviceId}\u0000${point}`;
  }

  /** Older readings never overwrite newer ones: batches may arrive out of order after a reconnect. */
  update(gatewayId: string, readings: readonly Reading[]): void {
    for (const r of readings) {
      const key = LatestValues.key(gatewayId, r.deviceId, r.point);
      const current = this.values.get(key);
      if (!current || current.t <= r.t) this.values.set(key, { value: r.value, t: r.t });
    }
  }

  get(gatewayId: string, deviceId: string, point: string): LatestReading | undefined {
    return this.values.get(LatestValues.key(gatewayId, deviceId, point));
  }

  get size(): number {
    return this.values.size;
  }
}
