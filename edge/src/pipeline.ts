// One device report through the stages: decode → rules → outbox (alarm lane durable at once,
// readings into the telemetry lane's buffer). A bad report is counted, logged and dropped; it never
// throws into the driver and never affects other devices.
//
// Durability before acknowledgement: a report's promise resolves only after the events it produced
// are committed, and drivers acknowledge the device (MQTT PUBACK, the end of a Modbus poll cycle)
// on that promise. Reports arriving within one turn of the event loop, or while the previous
// group's commit is in flight, commit together (group commit: one transaction and one fsync for a
// burst), each still acknowledged after the commit. In the agent the transaction runs on the
// outbox's writer thread (`backend`), so the fsync does not hold this event loop.
// When the commit fails (disk full, a broken database) the changes still drive local actuation at
// once, are held in memory in order and retried with the next report or tick, and the gateway
// raises its own `event_store_failed` alarm; nothing is dropped silently.
import type { Logger } from 'pino';
import type { AlarmEvent, Reading } from '@gridwatch/protocol';
import type { BoundDevice } from './config/index.ts';
import type { EdgeMetrics } from './metrics.ts';
import { GroupCommit, type CommitBackend, type EdgeDatabase, type Outbox, type TelemetryLane } from './outbox/index.ts';
import { decodeRegisters, decodeReport, type DecodeResult } from './profiles/index.ts';
import type { EventDraft, RuleEngine } from './rules/index.ts';
import { isLinkFrame, isRegisterFrame, type LinkFrame, type RawFrame } from './drivers/types.ts';

export interface PipelineOptions {
  devices: Map<string, BoundDevice>;
  db: EdgeDatabase;
  outbox: Outbox;
  engine: RuleEngine;
  /** Where the group commit's transactions run; default: on this thread, on `db`. */
  backend?: CommitBackend;
  /** Null: readings are not sent as telemetry. */
  telemetry: TelemetryLane | null;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Called after events were committed, e.g. to wake the uplink. */
  onEvents: (events: AlarmEvent[]) => void;
  /** Called with every alarm change as the rules decide it, before the commit: local actuation never waits for the disk. */
  onChanges?: (changes: readonly EventDraft[]) => void;
  /** Every decoded report (actuators confirm their writes by read-back here). */
  onReadings?: (deviceId: string, readings: readonly Reading[]) => void;
}

export interface Pipeline {
  /** Resolves once the report's events are committed (a rejected report resolves at once). Never rejects. */
  (frame: RawFrame): Promise<void>;
  /** Commits drafts from the clock, a reset or the gateway's health, with the engine's state (and any earlier changes still waiting). */
  commit(produce: () => EventDraft[]): AlarmEvent[];
  /** The same without blocking on the disk: the drafts go with the next group commit (the periodic tick). */
  commitSoon(produce: () => EventDraft[]): void;
  /** Changes decided but not yet committed (waiting for the group commit or held after a failed one). */
  readonly held: number;
  /** True while the last commit failed (changes are held in memory). */
  readonly storeFailing: boolean;
}

function decodeFrame(bound: BoundDevice, frame: Exclude<RawFrame, LinkFrame>): DecodeResult {
  const { profile } = bound;
  if (isRegisterFrame(frame)) {
    // The profile's transport piece refuses registers it does not decode (firmware-profiles transports/).
    return decodeRegisters(profile, frame.deviceId, frame.blocks, frame.t);
  }
  return decodeReport(profile, frame.deviceId, frame.payload, frame.t);
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { devices, engine, telemetry, metrics, logger, onReadings } = options;
  const committer = new GroupCommit(options);

  const pipeline = ((frame: RawFrame): Promise<void> => {
    const bound = devices.get(frame.deviceId);
    if (!bound) return Promise.resolve();
    if (isLinkFrame(frame)) return committer.enqueue(engine.linkStatus(frame.deviceId, frame.link === 'lost', frame.t));
    const decoded = decodeFrame(bound, frame);
    if (!decoded.ok) {
      metrics.decodeErrors.inc({ device: frame.deviceId });
      logger.warn({ deviceId: frame.deviceId, reason: decoded.reason }, 'device report rejected');
      return Promise.resolve();
    }
    const { readings } = decoded;
    metrics.readingCounts.add(frame.deviceId, readings.length);
    telemetry?.push(readings);
    const committed = committer.enqueue(engine.evaluate(frame.deviceId, readings, frame.t));
    onReadings?.(frame.deviceId, readings);
    return committed;
  }) as Pipeline;
  pipeline.commit = (produce) => committer.commitNow(produce());
  pipeline.commitSoon = (produce) => committer.commitSoon(produce());
  Object.defineProperty(pipeline, 'held', { get: () => committer.held });
  Object.defineProperty(pipeline, 'storeFailing', { get: () => committer.storeFailing });
  return pipeline;
}
