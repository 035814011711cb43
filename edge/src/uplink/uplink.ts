// Uplink to the cloud broker. Delivery is end-to-end at-least-once: an event leaves the outbox
// only when the cloud's application-level ack names it, never on PUBACK — PUBACK only means the
// broker took the message (MQTT 3.1.1 §4.3.2), not that ingest committed it.
//
// Order and liveness: events go out oldest first (on every (re)connect everything unacked is sent
// again, in sequence order, before anything newer), and a newer event of one (device, alarm type)
// never overtakes an unacked older one: it waits for the older one's ack, or goes in the same
// batch behind its resend. A link that swallows what we send without closing (a black hole) is
// detected by silence: when nothing at all came back for `ackTimeoutMs` after an alarm publish,
// the connection is dropped and re-opened at once, not after TCP or the keepalive give up.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { SCHEMA_VERSION, backoffDelay, decodeMessage, encodeMessage, topicFor, type AlarmEvent, type StatusMessage, type TelemetryMessage } from '@gridwatch/protocol';
import type { EdgeConfig } from '../config/index.ts';
import type { EdgeMetrics } from '../metrics.ts';
import type { Outbox, TelemetryLane } from '../outbox/index.ts';

/** At most this many events are in flight (sent, not acked); also the batch size limit of the schema. */
const WINDOW = 500;
const BATCH = 100;
/** Telemetry chunks awaiting PUBACK. Small, so a live alarm waits behind at most this many chunks on the socket. */
const TELEMETRY_WINDOW = 2;

/** Default ack time-out: silence this long after a publish means the link is dead. */
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Reconnect back-off cap while alarms wait in the outbox. */
export const DEFAULT_ALARM_RECONNECT_CAP_MS = 5_000;

const orderKey = (event: AlarmEvent): string => `${event.deviceId}\u0000${event.alarmType}`;

/**
 * The events to publish now, oldest first: those never sent on this connection or unacked for
 * `resendAfterMs`, except that an event waits while an older event of its (device, alarm type) is
 * in flight and not itself due — so the cloud never receives a newer change of one alarm before an
 * older one it has not acknowledged.
 */
export function dueEvents(pending: readonly AlarmEvent[], sentAt: ReadonlyMap<string, number>, now: number, resendAfterMs: number): AlarmEvent[] {
  const blocked = new Set<string>();
  const due: AlarmEvent[] = [];
  for (const event of pending) {
    const key = orderKey(event);
    if (blocked.has(key)) continue;
    const sent = sentAt.get(event.id);
    if (sent === undefined || now - sent >= resendAfterMs) due.push(event);
    else blocked.add(key);
  }
  return due;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Sorts an uplink error for `gridwatch_edge_uplink_errors_total{kind}`. */
export function uplinkErrorKind(err: Error): 'tls' | 'auth' | 'network' | 'other' {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls';
    if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)) return 'network';
  }
  if (err.message === 'TLS not authorized') return 'tls';
  // CONNACK return codes 4/5 (MQTT 3.1.1 §3.2.2.3) and reason codes 0x86/0x87 (MQTT 5).
  if (typeof code === 'number' && [4, 5, 0x86, 0x87].includes(code)) return 'auth';
  return 'other';
}

export interface UplinkOptions {
  gateway: EdgeConfig['gateway'];
  cloud: EdgeConfig['cloud'];
  outbox: Outbox;
  logger: Logger;
  metrics: EdgeMetrics;
  agentVersion?: string;
  /** The telemetry lane; null = events only. */
  telemetry?: TelemetryLane | null;
  /** Nothing received this long after a QoS 1 publish: drop the connection and reconnect. Default 10 s. */
  ackTimeoutMs?: number;
  /** Cap of the reconnect back-off while alarms are pending, so they go out soon after the link returns. Default 5 s. */
  alarmReconnectCapMs?: number;
}

export class Uplink {
  private readonly options: UplinkOptions;
  /** Event id → when it was last published; cleared on reconnect so everything unacked is resent. */
  private readonly inFlight = new Map<string, number>();
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  private readonly telemetryInFlight = new Set<number>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  /** First publish since anything was last received on this connection; null while answered. */
  private unansweredSince: number | null = null;
  private readonly ackTimeoutMs: number;
  /** When the link was last lost (or the agent started without it); null while connected. */
  downSince: number | null = Date.now();

  constructor(options: UplinkOptions) {
    this.options = options;
    this.ackTimeoutMs = options.ackTimeoutMs ?? options.cloud.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private topic(kind: 'events' | 'status' | 'ack' | 'telemetry'): string {
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
      // Reconnects are ours (jittered exponential back-off, below), not mqtt.js's fixed interval.
      reconnectPeriod: 0,
      // A CONNACK that does not come within the ack time-out is a dead link too.
      connectTimeout: this.ackTimeoutMs,
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
    client.on('packetreceive', () => {
      this.unansweredSince = null;
    });
    client.on('connect', () => {
      // A CONNACK that arrives after stop() began: mqtt.js has closed its stores, and a publish now
      // throws from inside its packet handler (seen as exit 1 on SIGTERM during start-up).
      if (this.stopped || this.client !== client) return;
      // Nagle + delayed ACK would hold each small alarm publish ~40 ms (issue 12); send at once.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.unansweredSince = null;
      this.attempt = 0;
      this.downSince = null;
      metrics.uplinkConnected.set(1);
      logger.info({ url: cloud.url }, 'uplink connected');
      // Anything unacked may have been lost with the old connection: resend all of it.
      this.inFlight.clear();
      this.telemetryInFlight.clear();
      client.publish(this.topic('status'), this.status('online'), { qos: 1, retain: true });
      client.subscribe(this.topic('ack'), { qos: 1 }, (err) => {
        if (err) logger.warn({ err: err.message }, 'ack subscription failed');
        else logger.info({ topic: this.topic('ack') }, 'uplink subscribed');
      });
      this.flush();
    });
    client.on('close', () => {
      metrics.uplinkConnected.set(0);
      this.downSince ??= Date.now();
      this.scheduleReconnect(client);
    });
    client.on('offline', () => logger.warn({ url: cloud.url }, 'uplink disconnected'));
    client.on('error', (err) => {
      const kind = uplinkErrorKind(err);
      metrics.uplinkErrors.inc({ kind });
      const code = (err as { code?: unknown }).code;
      // A TLS failure will not heal by itself (wrong CA, expired or misnamed certificate): say so loudly.
      if (kind === 'tls') logger.error({ err: err.message, code, url: cloud.url }, 'uplink TLS error: broker certificate not verified (check cloud.ca and the broker certificate)');
      else if (kind === 'auth') logger.error({ err: err.message, code, username: cloud.username }, 'uplink refused: bad credential (check cloud.password or enroll again)');
      else logger.warn({ err: err.message, code }, 'uplink error');
    });
    client.on('message', (topic, payload) => {
      if (topic === this.topic('ack')) this.onAck(payload);
    });
    const tick = Math.max(100, Math.min(1000, Math.floor(cloud.resendAfterMs / 2)));
    this.timer = setInterval(() => this.flush(), tick);
  }

  private scheduleReconnect(client: MqttClient): void {
    if (this.stopped || this.reconnectTimer || this.client !== client) return;
    const { cloud, metrics, outbox } = this.options;
    // Alarms waiting: keep trying often, so they go out within seconds of the link returning.
    const cap = outbox.pendingCount() > 0 ? Math.min(cloud.maxReconnectPeriodMs, this.options.alarmReconnectCapMs ?? DEFAULT_ALARM_RECONNECT_CAP_MS) : cloud.maxReconnectPeriodMs;
    // Jittered (50–100 % of the delay) so a fleet that lost the link together does not reconnect in step.
    const delay = backoffDelay(this.attempt++, { baseMs: Math.min(cloud.reconnectPeriodMs, cap), maxMs: cap, jitter: 0.5 });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped || this.client !== client) return;
      metrics.uplinkReconnects.inc();
      client.reconnect();
    }, delay);
  }

  /** New events are in the outbox: send them now rather than at the next tick. */
  notify(): void {
    this.flush();
  }

  private flush(): void {
    const client = this.client;
    if (!client?.connected || this.flushing) return;
    const now = Date.now();
    if (this.unansweredSince !== null && now - this.unansweredSince >= this.ackTimeoutMs) {
      this.dropSilentLink(client, now - this.unansweredSince);
      return;
    }
    this.flushing = true;
    try {
      const due = dueEvents(this.options.outbox.pending(WINDOW), this.inFlight, now, this.options.cloud.resendAfterMs);
      for (let i = 0; i < due.length; i += BATCH) this.send(client, due.slice(i, i + BATCH), now);
      // Telemetry only after every due alarm was handed to the socket, a few chunks at a time.
      const lane = this.options.telemetry;
      if (lane && this.telemetryInFlight.size < TELEMETRY_WINDOW) {
        for (const chunk of lane.next(TELEMETRY_WINDOW - this.telemetryInFlight.size, this.telemetryInFlight)) this.sendTelemetry(client, lane, chunk.seq, chunk.readings, now);
      }
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'uplink flush failed');
    } finally {
      this.flushing = false;
    }
  }

  /** The broker answered nothing (no PUBACK, no ack, no PINGRESP) for too long: reconnect rather than publish into a dead socket. */
  private dropSilentLink(client: MqttClient, silentMs: number): void {
    const { logger, metrics } = this.options;
    this.unansweredSince = null;
    metrics.uplinkErrors.inc({ kind: 'network' });
    logger.warn({ silentMs, ackTimeoutMs: this.ackTimeoutMs, unacked: this.inFlight.size }, 'uplink silent: no answer within the ack time-out; reconnecting');
    // Destroying the socket makes mqtt.js emit 'close', which schedules our reconnect.
    client.stream.destroy();
  }

  private published(now: number): void {
    this.unansweredSince ??= now;
  }

  private send(client: MqttClient, events: AlarmEvent[], now: number): void {
    const payload = encodeMessage('events', { v: SCHEMA_VERSION, gatewayId: this.options.gateway.id, sentAt: now, events });
    for (const event of events) this.inFlight.set(event.id, now);
    this.published(now);
    client.publish(this.topic('events'), payload, { qos: 1 }, (err) => {
      if (err) this.options.logger.warn({ err: err.message, count: events.length }, 'events publish failed; will resend');
    });
    this.options.metrics.eventsSent.inc(events.length);
    this.options.logger.debug({ eventIds: events.map((e) => e.id) }, 'events sent');
  }

  private sendTelemetry(client: MqttClient, lane: TelemetryLane, seq: number, readings: TelemetryMessage['readings'], now: number): void {
    this.telemetryInFlight.add(seq);
    // No silence clock for telemetry: the cloud withholds its PUBACK on purpose while its TSDB is
    // behind (back-pressure, up to the broker's hold of 20 s), which is not a dead link. A link dead
    // with only telemetry in flight is found by the MQTT keepalive (§3.1.2.10); an alarm publish
    // starts the clock again at once.
    const payload = encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: this.options.gateway.id, seq, sentAt: now, readings });
    client.publish(this.topic('telemetry'), payload, { qos: 1 }, (err) => {
      if (this.client !== client) return;
      // Telemetry is deleted on PUBACK (the cloud does not ack readings); a failure leaves it for the next connection.
      if (err) {
        this.telemetryInFlight.delete(seq);
        return;
      }
      if (!this.telemetryInFlight.delete(seq)) return;
      try {
        lane.ack(seq);
      } catch {
        return;
      }
      this.options.metrics.telemetrySent.inc(readings.length);
      setImmediate(() => this.flush());
    });
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
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
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
