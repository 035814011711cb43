// What a transaction changed, for the side effects that must wait for its commit (socket.io,
// MQTT per unit, webhook wake-up): nothing is announced that could still roll back.
import type { PlacementPolicy } from '../gateways/placement.ts';
import type { AckPolicy } from './ack-policy.ts';
import type { AlarmPolicy } from './policy.ts';
import type { Incident } from './incident.ts';

export interface DispatchNotice {
  incident: Incident;
  unitId: string;
  /** 'dispatch' for the first routing, 'escalation' when a missed deadline moved it up the ladder. */
  kind: 'dispatch' | 'escalation';
}

export class Outcome {
  readonly incidents = new Map<number, Incident>();
  readonly dispatches: DispatchNotice[] = [];
  /** Dispatch-queue rows were written: long-polls and the webhook pusher should look now. */
  queued = false;

  touch(incident: Incident): Incident {
    this.incidents.set(incident.id, incident);
    return incident;
  }

  /** Takes over what another (committed) part of the transaction changed. */
  merge(other: Outcome): void {
    for (const incident of other.incidents.values()) this.touch(incident);
    this.dispatches.push(...other.dispatches);
    this.queued ||= other.queued;
  }
}

export interface EngineOptions {
  deadlines: Record<1 | 2 | 3 | 4 | 5, { ackS: number; onSiteS: number; resolveS: number }>;
  autoCloseTypes: readonly string[];
  /** Whether a self-cleared alarm waits for acknowledgement; DEFAULT_ACK_POLICY when absent. */
  ackPolicy?: AckPolicy;
  /** Gateway-offline hold-off and restore time; DEFAULT_GATEWAY_SUPERVISION when absent. */
  gatewaySupervision?: { holdOffS: number; restoreS: number };
  /** Alarm management policy (chattering, floods, correlation, lanes); DEFAULT_ALARM_POLICY when absent. */
  alarmPolicy?: AlarmPolicy;
  /** How strict device placement is (gateways/placement.ts); lenient when absent. */
  placement?: PlacementPolicy;
  /**
   * The rehearsal clock (epoch ms): deadlines of a raise start at this instant. A replay sets it to
   * the scripted time, i.e. the event's time; absent (live) the database clock is used.
   */
  clock?: () => number;
}
