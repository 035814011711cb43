// Prometheus metrics on a registry owned by one cloud instance, so several clouds in one test
// process never collide on the global default registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RejectReason =
  | 'topic'
  | 'unknown_gateway'
  | 'site_mismatch'
  | 'gateway_mismatch'
  | 'json'
  | 'version'
  | 'schema'
  | 'event_schema'
  | 'event_id'
  /** The store refused the event (not a transient error): rejected by id, the rest of the batch committed. */
  | 'store'
  /** The event names an address outside the gateway's communities or other than the one on record (placement.ts). */
  | 'foreign_address'
  /** The event names no address and the cloud has none on record for its device (placement.ts). */
  | 'unplaced_device'
  /** requirePlacement is on and the gateway has no allowed community (placement.ts). */
  | 'unplaced_gateway';

export class CloudMetrics {
  readonly registry = new Registry();
  readonly mqttConnections = new Counter({
    name: 'gridwatch_mqtt_connections_total',
    help: 'MQTT CONNECT attempts on the embedded broker by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly mqttClients = new Gauge({
    name: 'gridwatch_mqtt_clients',
    help: 'MQTT clients currently connected to the embedded broker',
    registers: [this.registry],
  });
  readonly aclDenied = new Counter({
    name: 'gridwatch_acl_denied_total',
    help: 'Publish or subscribe requests refused by the topic ACL',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly eventsIngested = new Counter({
    name: 'gridwatch_ingest_events_total',
    help: 'Alarm events committed for the first time',
    registers: [this.registry],
  });
  readonly eventsDuplicate = new Counter({
    name: 'gridwatch_ingest_duplicates_total',
    help: 'Alarm events received again after they were committed (replays); acknowledged, not re-applied',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'gridwatch_ingest_rejected_total',
    help: 'Messages or events refused by ingest and written to dead_letters, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly ingestLatency = new Histogram({
    name: 'gridwatch_ingest_latency_seconds',
    help: 'Time from receiving an events message to its commit',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly telemetryReadings = new Counter({
    name: 'gridwatch_telemetry_readings_total',
    help: 'Telemetry readings accepted',
    registers: [this.registry],
  });
  readonly statusMessages = new Counter({
    name: 'gridwatch_status_messages_total',
    help: 'Gateway status messages accepted, by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly deadlinesMissed = new Counter({
    name: 'gridwatch_deadlines_missed_total',
    help: 'Incident deadlines (ack, on_site, resolve) that passed unmet, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly escalations = new Counter({
    name: 'gridwatch_escalations_total',
    help: 'Incidents moved one step up the ladder after a missed deadline, by tier reached',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'gridwatch_webhook_deliveries_total',
    help: 'Webhook delivery attempts by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly telemetryWritten = new Counter({
    name: 'gridwatch_telemetry_lines_written_total',
    help: 'Telemetry lines confirmed by the TSDB',
    registers: [this.registry],
  });
  readonly telemetryDropped = new Counter({
    name: 'gridwatch_telemetry_lines_dropped_total',
    help: 'Telemetry lines given up after retries or evicted from the retry buffer',
    registers: [this.registry],
  });
  readonly tickerErrors = new Counter({
    name: 'gridwatch_ticker_errors_total',
    help: 'Failed ticker rounds (deadlines, webhooks, heartbeats); retried next tick',
    labelNames: ['task'] as const,
    registers: [this.registry],
  });

  readonly enrollments = new Counter({
    name: 'gridwatch_enrollments_total',
    help: 'Gateway enrollment attempts by result (enrolled, rotated, bad_request, unknown_token, used_token, expired_token, refused)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly enrollmentTokensIssued = new Counter({
    name: 'gridwatch_enrollment_tokens_issued_total',
    help: 'One-time enrollment tokens issued',
    registers: [this.registry],
  });

  /** Process metrics (CPU, memory, event loop) on this registry; called once at start. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }
}
