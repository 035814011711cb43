// Per-agent Prometheus metrics. A Registry per agent (not prom-client's global one) lets several
// agents run in one process, as the tests and the demo do.
import { Counter, Gauge, Registry } from 'prom-client';

export interface EdgeMetrics {
  registry: Registry;
  /** Published from `readingCounts` at scrape time; count with `readingCounts.add`, not `inc`. */
  readings: Counter<'device'>;
  readingCounts: DeviceCounts;
  decodeErrors: Counter<'device'>;
  events: Counter<'action'>;
  eventsSent: Counter;
  eventsAcked: Counter;
  eventsQuarantined: Counter;
  invalidAcks: Counter;
  deviceConnectRefused: Counter<'reason'>;
  devicePublishRefused: Counter<'device'>;
  deviceTakeovers: Counter<'result'>;
  busRequests: Counter<'bus'>;
  busErrors: Counter<'bus' | 'kind'>;
  busUtilisation: Gauge<'bus'>;
  deviceErrors: Counter<'device' | 'kind'>;
  deviceFaulty: Gauge<'device'>;
  uplinkConnected: Gauge;
  outboxPending: Gauge;
  actuations: Counter<'result'>;
  telemetryThinned: Counter<'kind'>;
  telemetrySent: Counter;
  telemetryBytes: Gauge;
  outboxCorrupt: Counter;
  uplinkReconnects: Counter;
  uplinkErrors: Counter<'kind'>;
}

export interface LaneStats {
  bytes: number;
}

type Registers = Registry[];

/**
 * Per-device counts as plain numbers, for counters bumped on every report: prom-client's
 * `inc({ device })` hashes the label object each call (~4–5 % of the agent's CPU at saturation).
 */
export class DeviceCounts {
  private readonly counts = new Map<string, number>();

  add(device: string, n: number): void {
    this.counts.set(device, (this.counts.get(device) ?? 0) + n);
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}

/** A Counter that takes what `counts` gained since the last scrape, once per device per scrape. */
function scrapedCounter(registers: Registers, counts: DeviceCounts, name: string, help: string): Counter<'device'> {
  const published = new Map<string, number>();
  return new Counter({
    name,
    help,
    labelNames: ['device'],
    registers,
    collect() {
      for (const [device, n] of counts.entries()) {
        const before = published.get(device);
        if (before === n) continue;
        published.set(device, n);
        // Also for 0 on first sight: the series appears with the device's first report, as before.
        this.inc({ device }, n - (before ?? 0));
      }
    },
  });
}

function deviceMetrics(registers: Registers) {
  const readingCounts = new DeviceCounts();
  return {
    readingCounts,
    readings: scrapedCounter(registers, readingCounts, 'gridwatch_edge_readings_total', 'Readings decoded'),
    decodeErrors: new Counter({ name: 'gridwatch_edge_decode_errors_total', help: 'Device reports rejected by the decoder', labelNames: ['device'], registers }),
    deviceConnectRefused: new Counter({ name: 'gridwatch_edge_device_connect_refused_total', help: 'Local MQTT CONNECTs refused', labelNames: ['reason'], registers }),
    devicePublishRefused: new Counter({ name: 'gridwatch_edge_device_publish_refused_total', help: 'Local MQTT PUBLISHes outside the device topic', labelNames: ['device'], registers }),
    // Like the cloud broker's gridwatch_mqtt_takeovers_total, plus the refused attempts (issue 11).
    deviceTakeovers: new Counter({
      name: 'gridwatch_edge_device_takeovers_total',
      help: "CONNECTs under a configured device's client id: refused (another device's credential or a wrong password) or owner (the device's own credential replaced its live session)",
      labelNames: ['result'],
      registers,
    }),
    deviceErrors: new Counter({ name: 'gridwatch_edge_device_errors_total', help: 'Failed requests or frames per device, by kind', labelNames: ['device', 'kind'], registers }),
    deviceFaulty: new Gauge({ name: 'gridwatch_edge_device_faulty', help: '1 while a device is marked faulty', labelNames: ['device'], registers }),
    actuations: new Counter({
      name: 'gridwatch_edge_actuations_total',
      help: 'Local output writes by result (written, confirmed, rate_limited, unconfirmed, failed)',
      labelNames: ['result'],
      registers,
    }),
  };
}

function busMetrics(registers: Registers) {
  return {
    busRequests: new Counter({ name: 'gridwatch_edge_bus_requests_total', help: 'Requests sent on a polled bus', labelNames: ['bus'], registers }),
    busErrors: new Counter({
      name: 'gridwatch_edge_bus_errors_total',
      help: 'Failed requests on a polled bus, by kind (timeout, crc, short, exception, mismatch: an answer from another unit id, io)',
      labelNames: ['bus', 'kind'],
      registers,
    }),
    busUtilisation: new Gauge({ name: 'gridwatch_edge_bus_utilisation_ratio', help: 'Share of the last window the bus had a request in flight', labelNames: ['bus'], registers }),
  };
}

function eventMetrics(registers: Registers, pendingCount: () => number) {
  return {
    events: new Counter({ name: 'gridwatch_edge_events_total', help: 'Alarm events committed to the outbox', labelNames: ['action'], registers }),
    eventsSent: new Counter({ name: 'gridwatch_edge_events_sent_total', help: 'Events published to the cloud, resends included', registers }),
    eventsAcked: new Counter({ name: 'gridwatch_edge_events_acked_total', help: 'Events the cloud acknowledged', registers }),
    eventsQuarantined: new Counter({ name: 'gridwatch_edge_events_quarantined_total', help: 'Events the cloud rejected', registers }),
    invalidAcks: new Counter({ name: 'gridwatch_edge_invalid_acks_total', help: 'Ack messages that failed validation', registers }),
    outboxCorrupt: new Counter({ name: 'gridwatch_edge_outbox_corrupt_total', help: 'Outbox records that could not be read back; quarantined', registers }),
    outboxPending: new Gauge({
      name: 'gridwatch_edge_outbox_pending',
      help: 'Events waiting for the cloud ack',
      registers,
      collect() {
        this.set(pendingCount());
      },
    }),
  };
}

function uplinkMetrics(registers: Registers, laneStats: () => LaneStats) {
  return {
    uplinkConnected: new Gauge({ name: 'gridwatch_edge_uplink_connected', help: '1 while connected to the cloud broker', registers }),
    uplinkReconnects: new Counter({ name: 'gridwatch_edge_uplink_reconnects_total', help: 'Reconnect attempts to the cloud broker', registers }),
    uplinkErrors: new Counter({
      name: 'gridwatch_edge_uplink_errors_total',
      help: 'Failed uplink connections and link errors, by kind (tls: the broker certificate was not verified; auth: the broker refused the credential; network; other)',
      labelNames: ['kind'],
      registers,
    }),
    telemetryThinned: new Counter({
      name: 'gridwatch_edge_telemetry_thinned_total',
      help: 'Readings removed from the telemetry lane to stay within the disk budget, by kind (downsampled, dropped)',
      labelNames: ['kind'],
      registers,
    }),
    telemetrySent: new Counter({ name: 'gridwatch_edge_telemetry_readings_sent_total', help: 'Readings the broker accepted (PUBACK)', registers }),
    telemetryBytes: new Gauge({
      name: 'gridwatch_edge_telemetry_lane_bytes',
      help: 'Bytes stored in the telemetry lane',
      registers,
      collect() {
        this.set(laneStats().bytes);
      },
    }),
  };
}

export function createMetrics(pendingCount: () => number, laneStats: () => LaneStats = () => ({ bytes: 0 })): EdgeMetrics {
  const registry = new Registry();
  const registers = [registry];
  return { registry, ...deviceMetrics(registers), ...busMetrics(registers), ...eventMetrics(registers, pendingCount), ...uplinkMetrics(registers, laneStats) };
}
