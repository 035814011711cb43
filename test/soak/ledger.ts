// What the simulated devices did: per source (gateway, device, alarm type) the alarm changes in the
// order the device made them. Raise and clear alternate; each change carries a tag (its ordinal + 1)
// that the device also puts in a reading, so the event the cloud stores names the change it came from.
export type AlarmAction = 'raise' | 'clear';

export interface Change {
  source: string;
  /** 0-based position in the source's history; even = raise, odd = clear. */
  ordinal: number;
  action: AlarmAction;
  tag: number;
  madeAt: number;
  /** When the device had its report acknowledged (MQTT PUBACK, or the poll cycle after the read). */
  ackedAt: number | null;
}

export const sourceKey = (gatewayId: string, deviceId: string, alarmType: string): string => `${gatewayId}/${deviceId}/${alarmType}`;

export class Ledger {
  private readonly bySource = new Map<string, Change[]>();

  /** The next change of a source: a raise after a clear (or at first), a clear after a raise. */
  next(source: string, now = Date.now()): Change {
    const list = this.bySource.get(source) ?? [];
    this.bySource.set(source, list);
    const ordinal = list.length;
    const change: Change = { source, ordinal, action: ordinal % 2 === 0 ? 'raise' : 'clear', tag: ordinal + 1, madeAt: now, ackedAt: null };
    list.push(change);
    return change;
  }

  changes(source: string): readonly Change[] {
    return this.bySource.get(source) ?? [];
  }

  sources(): string[] {
    return [...this.bySource.keys()];
  }

  all(): Change[] {
    return [...this.bySource.values()].flat();
  }
}
