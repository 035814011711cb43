// The cloud's MQTT subscriber. It connects like any other client (embedded broker or Mosquitto/EMQX:
// same code path), validates every uplink message against the wire contract, commits events and
// their incidents in one transaction, and only then sends the application-level ack the edge waits
// for before deleting an event from its outbox (ARCHITECTURE.md, "End-to-end at-least-once").
import { randomBytes } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import {
  SCHEMA_VERSION,
  decodeMessage,
  encodeMessage,
  filterForAll,
  parseTopic,
  topicFor,
  type ParsedTopic,
} from '@gridwatch/protocol';
import type { Logger } from 'pino';
import type { GatewayRecord, GatewayRegistry } from '../gateways/registry.ts';
import { applyEvents } from '../incidents/apply.ts';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import type { CloudMetrics, RejectReason } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { gatewayOffline, gatewayOnline } from '../supervision/gateways.ts';
import type { InfluxSink } from '../telemetry/influx.ts';
import { LatestValues } from '../telemetry/latest.ts';
import { checkEvents } from './check-events.ts';
import { insertDeadLetter } from './dead-letters.ts';

export interface IngestOptions {
  brokerUrl: string;
  username: string;
  password: string | null;
  store: Store;
  registry: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
  engine: EngineOptions;
  /** Readings also go here when InfluxDB is configured. */
  telemetry: InfluxSink | null;
  /** MQTT v5 shared-subscription group: replicas split the uplink instead of each seeing all of it. */
  shareGroup: string | null;
  /** Called after commit with what the message changed (incidents, dispatches). */
  onOutcome: (outcome: Outcome) => void;
}

/** PostgreSQL errors worth one more try: deadlock, serialization failure, a unique race between replicas. */
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_TX_ATTEMPTS = 4;
/** Telemetry counts as a heartbeat; writing last_seen_at more often than this buys nothing. */
const SEEN_WRITE_INTERVAL_MS = 5000;

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

type Refusal = { label: RejectReason; reason: string };

export class Ingest {
  readonly latest = new LatestValues();
  private client: MqttClient | null = null;
  private telemetryClient: MqttClient | null = null;
  private readonly seenWritten = new Map<string, number>();

  constructor(private readonly options: IngestOptions) {}

  get connected(): boolean {
    return (this.client?.connected ?? false) && (this.telemetryClient?.connected ?? false);
  }

  /**
   * Resolves once connected and subscribed; a refused login or unreachable broker rejects. Two
   * connections: alarms and status on one, telemetry on the other, so a queue of 5,000-reading
   * batches never stands between an alarm and its incident (each connection is handled in order).
   */
  async start(): Promise<void> {
    try {
      this.client = await this.connect('alarms', { events: 1, status: 1 });
      this.telemetryClient = await this.connect('telemetry', { telemetry: 0 });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async connect(role: string, kinds: Partial<Record<'events' | 'status' | 'telemetry', 0 | 1>>): Promise<MqttClient> {
    const { brokerUrl, username, password, log } = this.options;
    const client = await mqtt.connectAsync(
      brokerUrl,
      {
        clientId: `gridwatch-ingest-${role}-${randomBytes(6).toString('hex')}`,
        username,
        password: password ?? undefined,
        // Shared subscriptions are MQTT 5 (§4.8.2); plain subscriptions keep 3.1.1 for older brokers.
        protocolVersion: this.options.shareGroup ? 5 : 4,
        clean: true,
        reconnectPeriod: 1000,
      },
      false,
    );
    // Called per message before PUBACK; mqtt.js reads the next packet only after the callback,
    // which keeps one gateway's raise and clear in order and gives back-pressure.
    client.handleMessage = (packet, done) => {
      this.route(packet).then(
        () => done(),
        (err: unknown) => {
          log.error({ err, topic: packet.topic }, 'ingest failed; the edge will resend');
          done();
        },
      );
    };
    client.on('error', (err) => log.warn({ err: err.message, role }, 'ingest mqtt error'));
    client.on('reconnect', () => log.info({ role }, 'ingest reconnecting to broker'));
    try {
      const share = (filter: string): string => (this.options.shareGroup ? `$share/${this.options.shareGroup}/${filter}` : filter);
      const filters = Object.fromEntries(Object.entries(kinds).map(([kind, qos]) => [share(filterForAll(kind as 'events')), { qos }]));
      const granted = await client.subscribeAsync(filters);
      const refused = granted.filter((g) => g.qos >= 128).map((g) => g.topic);
      if (refused.length > 0) throw new Error(`broker refused ingest subscriptions: ${refused.join(', ')}`);
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
    return client;
  }

  async stop(): Promise<void> {
    const clients = [this.client, this.telemetryClient];
    this.client = null;
    this.telemetryClient = null;
    // Graceful while connected (in-flight acks are flushed); forced when the broker is gone, since
    // mqtt.js would otherwise wait forever for PUBACKs that cannot come. Unsent acks are resent
    // by the edge's own retry.
    for (const client of clients) if (client) await client.endAsync(!client.connected);
  }

  private async route(packet: IPublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const topic = parseTopic(packet.topic);
    if (!topic) return this.deadLetter(packet.topic, null, payload, { label: 'topic', reason: `topic: ${packet.topic} is outside the contract` });
    const gateway = await this.options.registry.lookup(topic.gatewayId);
    if (!gateway) {
      return this.deadLetter(packet.topic, topic.gatewayId, payload, { label: 'unknown_gateway', reason: `gatewayId: ${topic.gatewayId} is not registered` });
    }
    if (gateway.site !== topic.site) {
      return this.deadLetter(packet.topic, topic.gatewayId, payload, {
        label: 'site_mismatch',
        reason: `site: topic says ${topic.site}, gateway ${gateway.gatewayId} belongs to ${gateway.site}`,
      });
    }
    switch (topic.kind) {
      case 'events':
        return this.onEvents(topic, gateway, payload, packet.topic);
      case 'status':
        return this.onStatus(gateway, payload, packet.topic);
      case 'telemetry':
        return this.onTelemetry(gateway, payload, packet.topic);
      default:
        // ack and config flow cloud → edge; ingest does not subscribe to them.
        return;
    }
  }

  private async onEvents(topic: ParsedTopic, gateway: GatewayRecord, payload: Buffer, rawTopic: string): Promise<void> {
    const { store, metrics, log } = this.options;
    const started = process.hrtime.bigint();
    const checked = checkEvents(topic.gatewayId, payload);
    if (!checked.ok) return this.deadLetter(rawTopic, gateway.gatewayId, payload, checked);

    let outcome = new Outcome();
    const commit = (): Promise<Awaited<ReturnType<typeof applyEvents>>> =>
      store.transaction(async (tx) => {
        for (const r of checked.refused) {
          await insertDeadLetter(tx, {
            topic: rawTopic,
            gatewayId: gateway.gatewayId,
            eventId: r.id,
            reason: r.reason,
            payload: JSON.stringify(r.raw) ?? '',
          });
        }
        return applyEvents(tx, gateway, checked.events, this.options.engine, outcome);
      });
    let result: Awaited<ReturnType<typeof applyEvents>>;
    for (let attempt = 1; ; attempt += 1) {
      try {
        result = await commit();
        break;
      } catch (err) {
        // Replicas racing for one building or source: the loser retries against the winner's rows.
        const code = pgCode(err);
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_TX_ATTEMPTS) throw err;
        outcome = new Outcome();
        log.debug({ code, attempt }, 'ingest transaction retried');
      }
    }
    metrics.ingestLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.eventsIngested.inc(result.inserted.length);
    metrics.eventsDuplicate.inc(result.duplicates.length);
    for (const r of checked.refused) {
      metrics.rejected.inc({ reason: r.label });
      log.warn({ gatewayId: gateway.gatewayId, eventId: r.id, reason: r.reason }, 'event refused');
    }
    if (result.duplicates.length > 0) log.debug({ gatewayId: gateway.gatewayId, duplicates: result.duplicates }, 'replayed events acknowledged');

    const rejected = checked.refused.flatMap((r) => (r.id === null ? [] : [{ id: r.id, reason: r.reason.slice(0, 512) }]));
    const eventIds = [...result.inserted, ...result.duplicates];
    if (eventIds.length > 0 || rejected.length > 0) {
      const ack = encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), eventIds, ...(rejected.length > 0 ? { rejected } : {}) });
      // Not awaited: the PUBACK for it arrives on the stream handleMessage is holding.
      this.client?.publish(topicFor(gateway, 'ack'), ack, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message, gatewayId: gateway.gatewayId }, 'ack not sent; the edge will resend and be acked then');
      });
    }
    this.options.onOutcome(outcome);
  }

  /** Publishes from the ingest connection (dispatch topics per unit); dropped while disconnected. */
  publish(topic: string, payload: string): void {
    this.client?.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) this.options.log.warn({ err: err.message, topic }, 'publish failed');
    });
  }

  private async onStatus(gateway: GatewayRecord, payload: Buffer, rawTopic: string): Promise<void> {
    const decoded = decodeMessage('status', payload);
    if (!decoded.ok) return this.deadLetter(rawTopic, gateway.gatewayId, payload, { label: 'schema', reason: decoded.error });
    if (decoded.value.gatewayId !== gateway.gatewayId) {
      return this.deadLetter(rawTopic, gateway.gatewayId, payload, {
        label: 'gateway_mismatch',
        reason: `gatewayId: ${decoded.value.gatewayId} does not match the topic's gateway ${gateway.gatewayId}`,
      });
    }
    const { state } = decoded.value;
    const outcome = new Outcome();
    await this.options.store.transaction(async (tx) => {
      await tx.query('UPDATE gateways SET status = $1, last_seen_at = now() WHERE id = $2', [state, gateway.gatewayId]);
      if (state === 'offline') await gatewayOffline(tx, gateway, 'gateway offline (last will or orderly shutdown)', this.options.engine, outcome);
      else await gatewayOnline(tx, gateway.gatewayId, outcome);
    });
    this.seenWritten.set(gateway.gatewayId, Date.now());
    this.options.metrics.statusMessages.inc({ state });
    this.options.onOutcome(outcome);
  }

  private async onTelemetry(gateway: GatewayRecord, payload: Buffer, rawTopic: string): Promise<void> {
    const decoded = decodeMessage('telemetry', payload);
    if (!decoded.ok) return this.deadLetter(rawTopic, gateway.gatewayId, payload, { label: 'schema', reason: decoded.error });
    if (decoded.value.gatewayId !== gateway.gatewayId) {
      return this.deadLetter(rawTopic, gateway.gatewayId, payload, {
        label: 'gateway_mismatch',
        reason: `gatewayId: ${decoded.value.gatewayId} does not match the topic's gateway ${gateway.gatewayId}`,
      });
    }
    this.latest.update(gateway.gatewayId, decoded.value.readings);
    await this.options.telemetry?.write(gateway.gatewayId, decoded.value.readings);
    this.options.metrics.telemetryReadings.inc(decoded.value.readings.length);
    const now = Date.now();
    if (now - (this.seenWritten.get(gateway.gatewayId) ?? 0) >= SEEN_WRITE_INTERVAL_MS) {
      this.seenWritten.set(gateway.gatewayId, now);
      // A gateway marked offline by the heartbeat check comes back with its next status message.
      await this.options.store.query('UPDATE gateways SET last_seen_at = now() WHERE id = $1', [gateway.gatewayId]);
    }
  }

  private async deadLetter(topic: string, gatewayId: string | null, payload: Buffer, refusal: Refusal): Promise<void> {
    this.options.metrics.rejected.inc({ reason: refusal.label });
    this.options.log.warn({ topic, gatewayId, reason: refusal.reason }, 'message refused');
    await insertDeadLetter(this.options.store, { topic, gatewayId, reason: refusal.reason, payload: payload.toString('utf8') });
  }
}
