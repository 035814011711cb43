// Order per source (ARCHITECTURE.md "Order per source"): per (gateway, device, alarm type) the cloud
// applies events in edge sequence order. The edge's seq is monotonic per gateway, so a lower seq
// for a source means the event was overtaken (a resend arriving after newer events, a replay): it
// is stored for the audit but must not change state, or a late raise would reopen a cleared alarm.
import type { AlarmEvent } from '@gridwatch/protocol';
import type { Queryable } from '../store/store.ts';

/**
 * Records `event` as the newest of its source and returns true, or returns false (changing
 * nothing) when the source has already applied an event with a higher seq. The row lock of the
 * upsert serialises replicas racing on one source.
 */
export async function advanceSource(tx: Queryable, gatewayId: string, event: AlarmEvent): Promise<boolean> {
  const rows = await tx.query<{ last_seq: string }>(
    `INSERT INTO source_state (gateway_id, device_id, alarm_type, last_seq, active) VALUES ($1, $2, $3, $4, $5) ${ADVANCE_ON_CONFLICT}`,
    [gatewayId, event.deviceId, event.alarmType, event.seq, event.action === 'raise'],
  );
  return rows.length > 0;
}

/** The upsert's rule, shared with apply.ts, which advances the source in the event's own INSERT statement. */
export const ADVANCE_ON_CONFLICT = `ON CONFLICT (gateway_id, device_id, alarm_type) DO UPDATE SET last_seq = EXCLUDED.last_seq, active = EXCLUDED.active, updated_at = now()
       WHERE source_state.last_seq < EXCLUDED.last_seq
     RETURNING last_seq`;

/** How many sources of an incident are still in alarm (their newest event was a raise). */
export async function activeSources(tx: Queryable, incidentId: number): Promise<number> {
  const rows = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM incident_sources s
     JOIN source_state st ON st.gateway_id = s.gateway_id AND st.device_id = s.device_id AND st.alarm_type = s.alarm_type
     WHERE s.incident_id = $1 AND s.open AND st.active`,
    [incidentId],
  );
  return rows[0]?.n ?? 0;
}
