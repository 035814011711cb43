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
import type { Incident } from '../incidents/incident.ts';
import type { CloudMetrics, RejectReason } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { checkEvents } from './check-events.ts';
import { insertDeadLetter } from './dead-letters.ts';
import { LatestValues } from './telemetry.ts';

export interface IngestOptions {
  brokerUrl: string;
  username: string;
  password: string | null;
  store: Store;
  registry: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
  /** Called after commit with every incident the message created or changed. */
  onIncident: (incident: Incident) => void;
}

type Refusal = { label: RejectReason; reason: string };

export class Ingest {
  readonly latest = new LatestValues();
  private client: MqttClient | null = null;

  constructor(private readonly options: IngestOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves once connected and subscribed; a refused login or unreachable broker rejects. */
  async start(): Promise<void> {
    const { brokerUrl, username, password, log } = this.options;
    const client = await mqtt.connectAsync(
      brokerUrl,
      {
        clientId: `gridwatch-ingest-${randomBytes(6).toString('hex')}`,
        username,
        password: password ?? undefined,
        protocolVersion: 4,
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
    client.on('error', (err) => log.warn({ err: err.message }, 'ingest mqtt error'));
    client.on('reconnect', () => log.info('ingest reconnecting to broker'));
    this.client = client;
    try {
      const granted = await client.subscribeAsync({
        [filterForAll('events')]: { qos: 1 },
        [filterForAll('status')]: { qos: 1 },
        [filterForAll('telemetry')]: { qos: 0 },
      });
      const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) throw new Error(`broker refused ingest subscriptions: ${refused.join(', ')}`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    // Graceful while connected (in-flight acks are flushed); forced when the broker is gone, since
    // mqtt.js would otherwise wait forever for PUBACKs that cannot come. Unsent acks are resent
    // by the edge's own retry.
    if (client) await client.endAsync(!client.connected);
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

    const result = await store.transaction(async (tx) => {
      for (const r of checked.refused) {
        await insertDeadLetter(tx, {
          topic: rawTopic,
          gatewayId: gateway.gatewayId,
          eventId: r.id,
          reason: r.reason,
          payload: JSON.stringify(r.raw) ?? '',
        });
      }
      return applyEvents(tx, gateway, checked.events);
    });
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
    for (const incident of result.incidents) this.options.onIncident(incident);
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
    await this.options.store.query('UPDATE gateways SET status = $1, last_seen_at = now() WHERE id = $2', [
      decoded.value.state,
      gateway.gatewayId,
    ]);
    this.options.metrics.statusMessages.inc({ state: decoded.value.state });
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
    this.options.metrics.telemetryReadings.inc(decoded.value.readings.length);
  }

  private async deadLetter(topic: string, gatewayId: string | null, payload: Buffer, refusal: Refusal): Promise<void> {
    this.options.metrics.rejected.inc({ reason: refusal.label });
    this.options.log.warn({ topic, gatewayId, reason: refusal.reason }, 'message refused');
    await insertDeadLetter(this.options.store, { topic, gatewayId, reason: refusal.reason, payload: payload.toString('utf8') });
  }
}
