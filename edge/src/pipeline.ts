// One device report through the stages: decode → rules → outbox (alarm lane durable at once,
// readings into the telemetry lane's buffer). A bad report is counted, logged and dropped; it never
// throws into the driver and never affects other devices.
import type { Logger } from 'pino';
import type { AlarmEvent, Reading } from '@gridwatch/protocol';
import type { BoundDevice } from './config.ts';
import type { EdgeMetrics } from './metrics.ts';
import type { EdgeDatabase, Outbox, TelemetryLane } from './outbox/index.ts';
import { decodeRegisters, decodeReport, type DecodeResult } from './profiles/index.ts';
import type { EventDraft, RuleEngine } from './rules/index.ts';
import { isRegisterFrame, type RawFrame } from './drivers/types.ts';

export interface PipelineOptions {
  devices: Map<string, BoundDevice>;
  db: EdgeDatabase;
  outbox: Outbox;
  engine: RuleEngine;
  /** Null: readings are not sent as telemetry. */
  telemetry: TelemetryLane | null;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Called after events were committed, e.g. to sound a siren and wake the uplink. */
  onEvents: (events: AlarmEvent[]) => void;
  /** Every decoded report (actuators confirm their writes by read-back here). */
  onReadings?: (deviceId: string, readings: readonly Reading[]) => void;
}

export interface Pipeline {
  (frame: RawFrame): void;
  /** Commits drafts from the clock, a reset or the gateway's health, with the engine's state. */
  commit(produce: () => EventDraft[]): AlarmEvent[];
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { devices, db, outbox, engine, telemetry, metrics, logger, onEvents, onReadings } = options;
  // Rule state and the events it produces commit in one transaction: after a crash either both
  // are on disk or neither, so an alarm is never raised twice nor lost.
  const transaction = db.transaction((drafts: EventDraft[]) => {
    engine.persist();
    return drafts.map((draft) => outbox.append(draft));
  });

  const publish = (events: AlarmEvent[]): void => {
    for (const event of events) {
      metrics.events.inc({ action: event.action });
      logger.info(
        { eventId: event.id, deviceId: event.deviceId, alarmType: event.alarmType, action: event.action, level: event.level, ...(event.chattering ? { chattering: true } : {}) },
        'event durable',
      );
    }
    if (events.length > 0) onEvents(events);
  };

  const commit = (produce: () => EventDraft[]): AlarmEvent[] => {
    const drafts = produce();
    if (drafts.length === 0 && !engine.dirty) return [];
    let events: AlarmEvent[];
    try {
      events = transaction(drafts);
    } catch (err) {
      // Disk full or a corrupt database: the report is lost but the agent keeps serving others.
      logger.error({ err: (err as Error).message, drafts: drafts.length }, 'could not commit events');
      return [];
    }
    publish(events);
    return events;
  };

  const pipeline = ((frame: RawFrame) => {
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
    const { readings } = decoded;
    metrics.readings.inc({ device: frame.deviceId }, readings.length);
    telemetry?.push(readings);
    commit(() => engine.evaluate(frame.deviceId, readings, frame.t));
    onReadings?.(frame.deviceId, readings);
  }) as Pipeline;
  pipeline.commit = commit;
  return pipeline;
}
