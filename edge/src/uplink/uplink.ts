// Uplink to the cloud broker. Delivery is end-to-end at-least-once: an event leaves the outbox
// only when the cloud's application-level ack names it, never on PUBACK — PUBACK only means the
// broker took the message (MQTT 3.1.1 §4.3.2), not that ingest committed it.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { SCHEMA_VERSION, decodeMessage, encodeMessage, topicFor, type AlarmEvent, type StatusMessage } from '@gridwatch/protocol';
import type { EdgeConfig } from '../config.ts';
import type { EdgeMetrics } from '../metrics.ts';
import type { Outbox } from '../outbox/index.ts';

/** At most this many events are in flight (sent, not acked); also the batch size limit of the schema. */
const WINDOW = 500;
const BATCH = 100;

export interface UplinkOptions {
  gateway: EdgeConfig['gateway'];
  cloud: EdgeConfig['cloud'];
  outbox: Outbox;
  logger: Logger;
  metrics: EdgeMetrics;
  agentVersion?: string;
}

export class Uplink {
  private readonly options: UplinkOptions;
  /** Event id → when it was last published; cleared on reconnect so everything unacked is resent. */
  private readonly inFlight = new Map<string, number>();
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;

  constructor(options: UplinkOptions) {
    this.options = options;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private topic(kind: 'events' | 'status' | 'ack'): string {
    return topicFor({ site: this.options.gateway.site, gatewayId: this.options.gateway.id }, kind);
  }

  private status(state: 'online' | 'offline'): string {
    const message: StatusMessage = { v: SCHEMA_VERSION, gatewayId: this.options.gateway.id, state, t: Date.now() };
    if (this.options.agentVersion) message.agentVersion = this.options.agentVersion;
    return encodeMessage('status', message);
  }

  /** Starts connecting and returns at once: the agent runs (and decides alarms locally) while the cloud is unreachable. */
  start(): void {
    const { cloud, gateway, logger, metrics } = this.options;
    const options: IClientOptions = {
      clientId: gateway.id,
      username: cloud.username,
      password: cloud.password,
      // A persistent session keeps our ack subscription and queues acks sent while we are away
      // (MQTT 3.1.1 §3.1.2.4, MQTT-3.1.2-4).
      clean: false,
      reconnectPeriod: cloud.reconnectPeriodMs,
      connectTimeout: 10_000,
      keepalive: 30,
      rejectUnauthorized: cloud.rejectUnauthorized,
      ...(cloud.ca === undefined ? {} : { ca: cloud.ca }),
      // The broker publishes this if we vanish without DISCONNECT (MQTT 3.1.1 §3.1.2.5); retained so
      // a console that subscribes later still sees the gateway as offline.
      will: { topic: this.topic('status'), payload: Buffer.from(this.status('offline')), qos: 1, retain: true },
      // Auth failures are retried too: credentials may be provisioned in the cloud after the edge starts.
      reconnectOnConnackError: true,
    };
    const client = mqtt.connect(cloud.url, options);
    this.client = client;
    client.on('connect', () => {
      metrics.uplinkConnected.set(1);
      logger.info({ url: cloud.url }, 'uplink connected');
      // Anything unacked may have been lost with the old connection: resend all of it.
      this.inFlight.clear();
      client.publish(this.topic('status'), this.status('online'), { qos: 1, retain: true });
      client.subscribe(this.topic('ack'), { qos: 1 }, (err) => {
        if (err) logger.warn({ err: err.message }, 'ack subscription failed');
        else logger.info({ topic: this.topic('ack') }, 'uplink subscribed');
      });
      this.flush();
    });
    client.on('close', () => metrics.uplinkConnected.set(0));
    client.on('offline', () => logger.warn({ url: cloud.url }, 'uplink disconnected'));
    client.on('error', (err) => logger.warn({ err: err.message }, 'uplink error'));
    client.on('message', (topic, payload) => {
      if (topic === this.topic('ack')) this.onAck(payload);
    });
    const tick = Math.max(100, Math.min(1000, Math.floor(cloud.resendAfterMs / 2)));
    this.timer = setInterval(() => this.flush(), tick);
  }

  /** New events are in the outbox: send them now rather than at the next tick. */
  notify(): void {
    this.flush();
  }

  private flush(): void {
    const client = this.client;
    if (!client?.connected || this.flushing) return;
    this.flushing = true;
    try {
      const now = Date.now();
      const due = this.options.outbox.pending(WINDOW).filter((event) => {
        const sentAt = this.inFlight.get(event.id);
        return sentAt === undefined || now - sentAt >= this.options.cloud.resendAfterMs;
      });
      for (let i = 0; i < due.length; i += BATCH) this.send(client, due.slice(i, i + BATCH), now);
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'uplink flush failed');
    } finally {
      this.flushing = false;
    }
  }

  private send(client: MqttClient, events: AlarmEvent[], now: number): void {
    const payload = encodeMessage('events', { v: SCHEMA_VERSION, gatewayId: this.options.gateway.id, sentAt: now, events });
    for (const event of events) this.inFlight.set(event.id, now);
    client.publish(this.topic('events'), payload, { qos: 1 }, (err) => {
      if (err) this.options.logger.warn({ err: err.message, count: events.length }, 'events publish failed; will resend');
    });
    this.options.metrics.eventsSent.inc(events.length);
    this.options.logger.debug({ eventIds: events.map((e) => e.id) }, 'events sent');
  }

  private onAck(payload: Buffer): void {
    const { outbox, logger, metrics } = this.options;
    const decoded = decodeMessage('ack', payload);
    if (!decoded.ok) {
      metrics.invalidAcks.inc();
      logger.warn({ error: decoded.error }, 'invalid ack ignored');
      return;
    }
    const ack = decoded.value;
    const removed = outbox.ack(ack.eventIds);
    for (const id of ack.eventIds) this.inFlight.delete(id);
    metrics.eventsAcked.inc(removed);
    for (const { id, reason } of ack.rejected ?? []) {
      this.inFlight.delete(id);
      if (outbox.quarantine(id, reason)) {
        metrics.eventsQuarantined.inc();
        logger.error({ eventId: id, reason }, 'cloud rejected event; quarantined');
      }
    }
    if (removed > 0) logger.info({ eventIds: ack.eventIds }, 'events acked');
    this.flush();
  }

  /** Publishes the offline status (a clean DISCONNECT discards the will, MQTT-3.1.2-10) and disconnects. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.connected) {
      await Promise.race([
        client.publishAsync(this.topic('status'), this.status('offline'), { qos: 1, retain: true }).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    }
    // A graceful end sends DISCONNECT once in-flight messages settle; a dead link must not hang stop().
    const ended = await Promise.race([
      client.endAsync(false).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
    ]);
    if (!ended) await client.endAsync(true);
    this.options.metrics.uplinkConnected.set(0);
  }
}
