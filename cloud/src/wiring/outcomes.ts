// Post-commit side effects, shared by ingest, REST actions and the jobs: incidents and dispatches
// to socket.io, each dispatch to its unit's MQTT topic, and a wake-up for long-polls and the
// delivery job when messages were queued. Late-bound parts (ingest, jobs) are attached once started.
import { EventEmitter } from 'node:events';
import type { LiveFeed } from '../console/live.ts';
import type { Outcome } from '../incidents/outcome.ts';

/** MQTT topic on which each unit's dispatches are published (QoS 1), e.g. for Node-RED. */
export function unitTopic(unitId: string): string {
  return `dispatch/${unitId}/incidents`;
}

export interface OutcomeSinks {
  publish?: (topic: string, payload: string) => void;
  /** The delivery job's kick. */
  queued?: () => void;
}

export function outcomeFanOut(live: LiveFeed): { onOutcome: (outcome: Outcome) => void; queueSignal: EventEmitter; sinks: OutcomeSinks } {
  const queueSignal = new EventEmitter();
  queueSignal.setMaxListeners(0);
  const sinks: OutcomeSinks = {};
  const onOutcome = (outcome: Outcome): void => {
    for (const incident of outcome.incidents.values()) live.emitIncident(incident);
    for (const d of outcome.dispatches) {
      live.emitDispatch({ kind: d.kind, unitId: d.unitId, incident: d.incident });
      sinks.publish?.(unitTopic(d.unitId), JSON.stringify({ kind: d.kind, unitId: d.unitId, incident: d.incident }));
    }
    if (outcome.queued) {
      queueSignal.emit('queued');
      sinks.queued?.();
    }
  };
  return { onOutcome, queueSignal, sinks };
}
