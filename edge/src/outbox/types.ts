// The outbox contract every backend (SQLite today, memory later) must honour; a shared test suite
// runs against each.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { EventDraft } from '../types.ts';

export interface QuarantinedEvent {
  /** Null when the stored record was corrupt. */
  event: AlarmEvent | null;
  id: string;
  seq: number;
  reason: string;
  quarantinedAt: number;
}

export interface Outbox {
  /**
   * Gives the event the next sequence number (monotonic, never reused, even after deletes) and the
   * id `{gatewayId}:{seq}`, and makes it durable before returning. Inside a caller's transaction
   * the caller's commit is what makes it durable.
   */
  append(draft: EventDraft): AlarmEvent;
  /** Oldest first. */
  pending(limit: number): AlarmEvent[];
  pendingCount(): number;
  /** Deletes acknowledged events; only the cloud's application-level ack may call this. Returns how many existed. */
  ack(ids: readonly string[]): number;
  /** Moves an event the cloud will never accept out of the send queue. Returns false if unknown. */
  quarantine(id: string, reason: string): boolean;
  quarantined(): QuarantinedEvent[];
  close(): void;
}
