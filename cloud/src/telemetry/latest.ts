// Latest value per gateway/device/point, in memory: what the console needs, kept whether or not a
// TSDB is configured. Without InfluxDB it is the only telemetry store;
// it is rebuilt from the next batches after a restart.
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import type { CompactLatest } from './worker-protocol.ts';

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

  /** The same, from a telemetry worker's newest-per-point summary of a batch (worker-protocol.ts). */
  updateCompact(gatewayId: string, latest: CompactLatest): void {
    const { devices, points, values, times } = latest;
    for (let i = 0; i < devices.length; i += 1) {
      const key = LatestValues.key(gatewayId, devices[i]!, points[i]!);
      const current = this.values.get(key);
      if (!current || current.t <= times[i]!) this.values.set(key, { value: values[i]!, t: times[i]! });
    }
  }

  get(gatewayId: string, deviceId: string, point: string): LatestReading | undefined {
    return this.values.get(LatestValues.key(gatewayId, deviceId, point));
  }

  /** Every point of a gateway (optionally one device), sorted by device then point. */
  list(gatewayId: string, deviceId?: string): (LatestReading & { deviceId: string; point: string })[] {
    const prefix = deviceId === undefined ? `${gatewayId}\u0000` : `${gatewayId}\u0000${deviceId}\u0000`;
    const out: (LatestReading & { deviceId: string; point: string })[] = [];
    for (const [key, reading] of this.values) {
      if (!key.startsWith(prefix)) continue;
      const [, device, point] = key.split('\u0000') as [string, string, string];
      out.push({ deviceId: device, point, ...reading });
    }
    return out.sort((a, b) => a.deviceId.localeCompare(b.deviceId) || a.point.localeCompare(b.point));
  }

  get size(): number {
    return this.values.size;
  }
}
