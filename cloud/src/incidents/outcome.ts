// What a transaction changed, for the side effects that must wait for its commit (socket.io,
// MQTT per unit, webhook wake-up): nothing is announced that could still roll back.
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
}

export interface EngineOptions {
  deadlines: Record<1 | 2 | 3 | 4 | 5, { ackS: number; onSiteS: number; resolveS: number }>;
  autoCloseTypes: readonly string[];
}
