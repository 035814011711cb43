// One device report through the stages: decode → rules → outbox. A bad report is counted, logged
// and dropped; it never throws into the driver and never affects other devices.
import type { Logger } from 'pino';
import type { AlarmEvent } from '@gridwatch/protocol';
import type { BoundDevice } from './config.ts';
import type { EdgeMetrics } from './metrics.ts';
import type { EdgeDatabase, Outbox } from './outbox/index.ts';
import { decodeRegisters, decodeReport, type DecodeResult } from './profiles/index.ts';
import { evaluateRules, type RuleStateStore } from './rules/index.ts';
import { isRegisterFrame, type RawFrame } from './drivers/types.ts';

export interface PipelineOptions {
  devices: Map<string, BoundDevice>;
  db: EdgeDatabase;
  outbox: Outbox;
  ruleState: RuleStateStore;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Called after events were committed, e.g. to wake the uplink. */
  onEvents: (events: AlarmEvent[]) => void;
}

export function createPipeline(options: PipelineOptions): (frame: RawFrame) => void {
  const { devices, db, outbox, ruleState, metrics, logger, onEvents } = options;
  // Rule state and the events it produces commit in one transaction: after a crash either both
  // are on disk or neither, so an alarm is never raised twice nor lost.
  const commit = db.transaction((bound: BoundDevice, frame: RawFrame, readings: Parameters<typeof evaluateRules>[1]) =>
    evaluateRules(
      { deviceId: bound.device.id, profile: bound.profile, ...(bound.device.addressId === undefined ? {} : { addressId: bound.device.addressId }) },
      readings,
      ruleState,
      frame.t,
    ).map((draft) => outbox.append(draft)),
  );

  return (frame) => {
    const bound = devices.get(frame.deviceId);
    if (!bound) return;
    const { profile } = bound;
    let decoded: DecodeResult;
    if (isRegisterFrame(frame)) {
      decoded = profile.transport === 'modbus' ? decodeRegisters(profile, frame.deviceId, frame.blocks, frame.t) : { ok: false, reason: 'registers for a non-Modbus profile' };
    } else {
      decoded = decodeReport(profile, frame.deviceId, frame.payload, frame.t);
    }
    if (!decoded.ok) {
      metrics.decodeErrors.inc({ device: frame.deviceId });
      logger.warn({ deviceId: frame.deviceId, reason: decoded.reason }, 'device report rejected');
      return;
    }
    metrics.readings.inc({ device: frame.deviceId }, decoded.readings.length);
    let events: AlarmEvent[];
    try {
      events = commit(bound, frame, decoded.readings);
    } catch (err) {
      // Disk full or a corrupt database: the report is lost but the agent keeps serving others.
      logger.error({ deviceId: frame.deviceId, err: (err as Error).message }, 'could not commit events');
      return;
    }
    for (const event of events) {
      metrics.events.inc({ action: event.action });
      logger.info(
        { eventId: event.id, deviceId: event.deviceId, alarmType: event.alarmType, action: event.action, level: event.level },
        'event durable',
      );
    }
    if (events.length > 0) onEvents(events);
  };
}
