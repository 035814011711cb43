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
import { ISOLATED, type ApplyMode, type ApplyResult } from '../incidents/apply.ts';
import { applyGroup } from '../incidents/apply-set.ts';
import { describeStoreError, isTransientStoreError } from '../incidents/store-errors.ts';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import type { CloudMetrics, RejectReason } from '../metrics.ts';
import type { Queryable, Store } from '../store/store.ts';
import { markAlive, markOffline } from '../supervision/gateways.ts';
import { LatestValues } from '../telemetry/latest.ts';
import { TelemetryProcessor } from '../telemetry/worker-processor.ts';
import type { TelemetryPipeline } from '../telemetry/worker-pool.ts';
import type { Verdict } from '../telemetry/worker-protocol.ts';
import { checkEvents, type CheckedEvents } from './check-events.ts';
import { DEFERRED, DeferredPuback } from './deferred-puback.ts';
import { KeyedBatchLanes } from './lanes.ts';
import { insertDeadLetter, storableText } from './dead-letters.ts';

export interface IngestOptions {
  brokerUrl: string;
  username: string;
  password: string | null;
  store: Store;
  registry: GatewayRegistry;
  metrics: CloudMetrics;
  log: Logger;
  engine: EngineOptions;
  /**
   * Decodes, validates and writes telemetry (worker threads, telemetry/worker-pool.ts); null =
   * decoded on this thread, latest values only (tests that need no TSDB).
   */
  telemetry: TelemetryPipeline | null;
  /** MQTT v5 shared-subscription group: replicas split the uplink instead of each seeing all of it. */
  shareGroup: string | null;
  /** Called after commit with what the message changed (incidents, dispatches). */
  onOutcome: (outcome: Outcome) => void;
}

/** Attempts of a batch's transaction on transient store errors (incidents/store-errors.ts). */
const MAX_TX_ATTEMPTS = 4;
/** Telemetry counts as a heartbeat; writing last_seen_at more often than this buys nothing. */
const SEEN_WRITE_INTERVAL_MS = 5000;

/** Alarm/status messages held at once (queued or committing); beyond it the connection stops reading. */
const LANE_CAPACITY = 1000;

/**
 * Messages of one gateway committed in one transaction (group commit): a burst's BEGIN, COMMIT (the
 * WAL flush) and gateway liveness write are paid once per group instead of once per message.
 */
const GROUP_COMMIT_MAX = 100;

/** Ids one ack message may carry (protocol AckMessage: eventIds and rejected, maxItems 500 each). */
const ACK_MAX_IDS = 500;

/** A group is applied without per-event savepoints; a store error redoes it message by message, isolated. */
const GROUPED: ApplyMode = { isolate: false, markSeen: false };

/**
 * Telemetry batches handled at once (in the workers), and what the broker may send ahead (MQTT 5
 * receiveMaximum); beyond it the telemetry connection stops reading.
 */
const TELEMETRY_IN_FLIGHT = 8;

type Refusal = { label: RejectReason; reason: string };

/** A message held by the alarm lanes until its group is committed and its PUBACK sent. */
interface Held {
  packet: IPublishPacket;
  receivedOn: number;
}

/** An events message that passed the contract checks, waiting for its group's commit. */
interface EventsMessage {
  gateway: GatewayRecord;
  checked: Extract<CheckedEvents, { ok: true }>;
  rawTopic: string;
  payload: Buffer;
  started: bigint;
}

type Committed = { result: ApplyResult; outcome: Outcome };

/** Leaves two of the pool's connections to the API, timers and supervision. */
function laneConcurrency(store: Store): number {
  return Math.max(1, (store.connections ?? 1) - 2);
}

/** One lane per gateway (topic gw/{site}/{gatewayId}/…); a topic outside the contract is its own lane. */
function laneKeyOf(topic: string): string {
  return parseTopic(topic)?.gatewayId ?? topic;
}

export class Ingest {
  readonly latest = new LatestValues();
  private client: MqttClient | null = null;
  private telemetryClient: MqttClient | null = null;
  private readonly aliveWritten = new Map<string, number>();
  private readonly lanes: KeyedBatchLanes<Held>;
  private pubacks: DeferredPuback | null = null;
  private readonly telemetry: Pick<TelemetryPipeline, 'submit'>;

  constructor(private readonly options: IngestOptions) {
    this.lanes = new KeyedBatchLanes<Held>({
      concurrency: laneConcurrency(options.store),
      capacity: LANE_CAPACITY,
      maxBatch: GROUP_COMMIT_MAX,
      run: (_key, items) => this.runHeld(items),
    });
    const local = options.telemetry ? null : new TelemetryProcessor(null, { log: options.log });
    this.telemetry = options.telemetry ?? { submit: (gatewayId, payload) => local!.handle(gatewayId, payload) };
  }

  get connected(): boolean {
    return (this.client?.connected ?? false) && (this.telemetryClient?.connected ?? false);
  }

  /**
   * Resolves once connected and subscribed; a refused login or unreachable broker rejects. Two
   * connections: alarms and status on one, telemetry on the other, so a queue of 5,000-reading
   * batches never stands between an alarm and its incident.
   */
  async start(): Promise<void> {
    try {
      this.client = await this.connect('alarms', { events: 1, status: 1 });
      // QoS 1 with the PUBACK after the TSDB sink accepted the batch (it waits at its high-water
      // mark): a slow TSDB holds the broker's in-flight window instead of the broker dropping QoS 0.
      this.telemetryClient = await this.connect('telemetry', { telemetry: 1 });
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
        // MQTT 5 §3.1.2.11.3: the broker keeps at most this many QoS 1 messages unacknowledged.
        ...(this.options.shareGroup ? { properties: { receiveMaximum: role === 'alarms' ? LANE_CAPACITY : TELEMETRY_IN_FLIGHT } } : {}),
        clean: true,
        reconnectPeriod: 1000,
      },
      false,
    );
    if (role === 'alarms') this.handleConcurrently(client);
    else this.handleTelemetry(client);
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

  /**
   * Alarms and status: messages of different gateways commit concurrently on the store's pool, one
   * gateway's messages strictly in arrival order (its lane), what a gateway has queued committed as
   * one group, each PUBACK after its commit. mqtt.js reads the next packet only when the callback is
   * called, and it is called only while the lanes have room: at most LANE_CAPACITY messages are
   * held, the rest wait in TCP and at the broker.
   */
  private handleConcurrently(client: MqttClient): void {
    const pubacks = new DeferredPuback(client);
    this.pubacks = pubacks;
    client.handleMessage = (packet, done) => {
      this.lanes.push(laneKeyOf(packet.topic), { packet, receivedOn: pubacks.receivedOn() });
      const carryOn = (): void => done(packet.qos === 1 ? DEFERRED : undefined);
      if (this.lanes.hasRoom) carryOn();
      else void this.lanes.whenRoom().then(carryOn);
    };
  }

  /** One lane's turn: its queued messages in order, consecutive events messages as one group. */
  private async runHeld(items: Held[]): Promise<void> {
    let group: { packet: IPublishPacket; message: EventsMessage }[] = [];
    const flush = async (): Promise<void> => {
      const batch = group;
      group = [];
      if (batch.length > 0) await this.guarded(batch.map((b) => b.packet), () => this.onEventsGroup(batch.map((b) => b.message)));
    };
    try {
      for (const { packet } of items) {
        const message = await this.guarded([packet], () => this.eventsMessageOf(packet));
        if (message) {
          group.push({ packet, message });
          continue;
        }
        await flush();
        if (message === null) await this.guarded([packet], () => this.route(packet));
      }
      await flush();
    } finally {
      // Acknowledged to the broker even when it failed, as before: the edge resends it (no
      // application ack came), and an unacknowledged packet would hold one of the broker's
      // in-flight slots for this connection for good (Mosquitto: max_inflight_messages).
      this.pubacks?.sendAll(items);
    }
  }

  /** Runs `fn`; a failure is logged for its packets (the edge resends them: no application ack came). */
  private async guarded<T>(packets: IPublishPacket[], fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      for (const packet of packets) this.options.log.error({ err, topic: packet.topic }, 'ingest failed; the edge will resend');
      return undefined;
    }
  }

  /**
   * The checked events message of a packet, ready for a group; null when the packet takes the
   * one-by-one path instead (another kind, or refused: dead-lettered there).
   */
  private async eventsMessageOf(packet: IPublishPacket): Promise<EventsMessage | null> {
    const topic = parseTopic(packet.topic);
    if (topic?.kind !== 'events') return null;
    const gateway = await this.options.registry.lookup(topic.gatewayId);
    if (!gateway || gateway.site !== topic.site) return null;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const started = process.hrtime.bigint();
    const checked = checkEvents(topic.gatewayId, payload);
    if (!checked.ok) return null;
    return { gateway, checked, rawTopic: packet.topic, payload, started };
  }

  /**
   * One transaction for the group, without savepoints. A transient error retries it; any other
   * store error redoes the messages one by one, isolated, so a bad event is rejected by id alone.
   */
  private async onEventsGroup(messages: EventsMessage[]): Promise<void> {
    const [first] = messages;
    if (!first) return;
    if (messages.length === 1) return this.commitAndAnswer(first);
    let committed: Committed[];
    try {
      committed = await this.commitEvents(first.gateway, messages, GROUPED);
    } catch (err) {
      if (isTransientStoreError(err)) throw err;
      this.options.log.debug({ err, gatewayId: first.gateway.gatewayId, messages: messages.length }, 'group commit failed; applying message by message');
      for (const message of messages) await this.commitAndAnswer(message);
      return;
    }
    // One ack (per 500 ids, the contract's bound) for the whole group instead of one per message:
    // the edge deletes by event id, whichever message carried it.
    const answers = messages.map((message, i) => this.recordAnswer(message, committed[i]!));
    const acked = answers.flatMap((a) => a.acked);
    const rejected = answers.flatMap((a) => a.rejected);
    for (let i = 0; i < Math.max(acked.length, rejected.length); i += ACK_MAX_IDS) this.sendAck(first.gateway, acked.slice(i, i + ACK_MAX_IDS), rejected.slice(i, i + ACK_MAX_IDS));
    committed.forEach((c) => this.options.onOutcome(c.outcome));
  }

  /**
   * Telemetry: up to TELEMETRY_IN_FLIGHT batches at once (the workers decode and write them), each
   * PUBACK after the sink accepted its batch and in arrival order; a full window withholds the
   * callback, so mqtt.js stops reading and the broker holds the rest.
   */
  private handleTelemetry(client: MqttClient): void {
    const pubacks = new DeferredPuback(client);
    let inFlight = 0;
    let resume: (() => void) | null = null;
    let inOrder: Promise<void> = Promise.resolve();
    client.handleMessage = (packet, done) => {
      const receivedOn = pubacks.receivedOn();
      inFlight += 1;
      const handled = this.route(packet).catch((err: unknown) => this.options.log.error({ err, topic: packet.topic }, 'ingest failed; the edge will resend'));
      inOrder = inOrder
        .then(() => handled)
        .then(() => {
          pubacks.send(packet, receivedOn);
          inFlight -= 1;
          const next = resume;
          resume = null;
          next?.();
        });
      const carryOn = (): void => done(packet.qos === 1 ? DEFERRED : undefined);
      if (inFlight < TELEMETRY_IN_FLIGHT) carryOn();
      else resume = carryOn;
    };
  }

  async stop(): Promise<void> {
    const clients = [this.client, this.telemetryClient];
    this.client = null;
    this.telemetryClient = null;
    // Graceful while connected (in-flight acks are flushed); forced when the broker is gone, since
    // mqtt.js would otherwise wait forever for PUBACKs that cannot come. Unsent acks are resent
    // by the edge's own retry.
    for (const client of clients) if (client) await client.endAsync(!client.connected);
    await this.lanes.whenIdle();
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
    const started = process.hrtime.bigint();
    const checked = checkEvents(topic.gatewayId, payload);
    if (!checked.ok) {
      await this.deadLetter(rawTopic, gateway.gatewayId, payload, checked);
      // The whole message is refused, but every readable event id still gets its answer.
      this.sendAck(gateway, [], checked.answerIds.map((id) => ({ id, reason: checked.reason })));
      // Refused or not, it came from the authenticated gateway: proof of life.
      return this.noteAlive(gateway.gatewayId);
    }
    return this.commitAndAnswer({ gateway, checked, rawTopic, payload, started });
  }

  /** One message in its own transaction, each event under its savepoint. */
  private async commitAndAnswer(message: EventsMessage): Promise<void> {
    let committed: Committed[];
    try {
      committed = await this.commitEvents(message.gateway, [message], ISOLATED);
    } catch (err) {
      if (isTransientStoreError(err)) throw err;
      return this.refuseBatch(message.gateway, message.checked, message.rawTopic, message.payload, err);
    }
    this.answerEvents(message, committed[0]!);
  }

  /** After the commit: metrics, logs, the application ack to the edge and the outcome's broadcasts. */
  private answerEvents(message: EventsMessage, committed: Committed): void {
    const { acked, rejected } = this.recordAnswer(message, committed);
    this.sendAck(message.gateway, acked, rejected);
    this.options.onOutcome(committed.outcome);
  }

  /** A committed message's metrics and logs, and what its ack must say. */
  private recordAnswer(message: EventsMessage, { result }: Committed): { acked: string[]; rejected: { id: string; reason: string }[] } {
    const { metrics, log } = this.options;
    const { gateway, checked } = message;
    metrics.ingestLatency.observe(Number(process.hrtime.bigint() - message.started) / 1e9);
    metrics.eventsIngested.inc(result.inserted.length);
    metrics.eventsDuplicate.inc(result.duplicates.length);
    for (const r of checked.refused) {
      metrics.rejected.inc({ reason: r.label });
      log.warn({ gatewayId: gateway.gatewayId, eventId: r.id, reason: r.reason }, 'event refused');
    }
    for (const r of result.rejected) {
      metrics.rejected.inc({ reason: r.label });
      log.warn({ gatewayId: gateway.gatewayId, eventId: r.id, reason: r.reason, label: r.label }, 'event refused while applying');
    }
    if (result.stale.length > 0) log.info({ gatewayId: gateway.gatewayId, stale: result.stale }, 'late events stored, not applied');
    if (result.duplicates.length > 0) log.debug({ gatewayId: gateway.gatewayId, duplicates: result.duplicates }, 'replayed events acknowledged');
    const rejected = [...checked.refused, ...result.rejected].flatMap((r) => (r.id === null ? [] : [{ id: r.id, reason: r.reason }]));
    return { acked: [...result.inserted, ...result.duplicates], rejected };
  }

  /**
   * Commits the messages (one gateway's) in one transaction: refused events as dead letters, the
   * rest applied in `mode` (isolated: one savepoint each, so a store error on one rejects it alone,
   * and it is dead-lettered too). A transient store error (connection lost, serialization failure,
   * deadlock) retries the whole transaction; after the last attempt it propagates and the edge resends.
   */
  private async commitEvents(gateway: GatewayRecord, messages: EventsMessage[], mode: ApplyMode): Promise<Committed[]> {
    for (let attempt = 1; ; attempt += 1) {
      const outcomes = messages.map(() => new Outcome());
      try {
        const results = await this.options.store.transaction(async (tx) => {
          const applied = await this.applyMessages(tx, gateway, messages, outcomes, mode);
          await markAlive(tx, gateway.gatewayId);
          return applied;
        });
        this.aliveWritten.set(gateway.gatewayId, Date.now());
        return results.map((result, i) => ({ result, outcome: outcomes[i]! }));
      } catch (err) {
        if (!isTransientStoreError(err) || attempt >= MAX_TX_ATTEMPTS) throw err;
        this.options.log.debug({ err, attempt }, 'ingest transaction retried');
      }
    }
  }

  /**
   * The group's events in one set-based apply (incidents/apply-set.ts; isolated: per message, as
   * before), each message's refused events dead-lettered, and so are those the apply rejected.
   */
  private async applyMessages(tx: Queryable, gateway: GatewayRecord, messages: EventsMessage[], outcomes: Outcome[], mode: ApplyMode): Promise<ApplyResult[]> {
    for (const { checked, rawTopic, payload } of messages) {
      for (const r of checked.refused) {
        // Without a usable id the event cannot be answered: keep the whole message as evidence.
        const evidence = r.id === null ? payload : Buffer.from(JSON.stringify(r.raw) ?? '');
        await insertDeadLetter(tx, { topic: rawTopic, gatewayId: gateway.gatewayId, eventId: r.id, reason: r.reason, payload: evidence });
      }
    }
    const results = await applyGroup(tx, gateway, messages.map((m) => m.checked.events), this.options.engine, outcomes, mode);
    for (const [i, applied] of results.entries()) {
      const { checked, rawTopic } = messages[i]!;
      for (const r of applied.rejected) {
        const event = checked.events.find((e) => e.id === r.id);
        await insertDeadLetter(tx, { topic: rawTopic, gatewayId: gateway.gatewayId, eventId: r.id, reason: r.reason, payload: Buffer.from(JSON.stringify(event) ?? '') });
      }
    }
    return results;
  }

  /**
   * A non-transient failure outside the per-event savepoints (the batch's own statements): every
   * event of the batch is rejected by id with the reason rather than resent forever.
   */
  private async refuseBatch(gateway: GatewayRecord, checked: Extract<CheckedEvents, { ok: true }>, rawTopic: string, payload: Buffer, err: unknown): Promise<void> {
    const reason = describeStoreError(err);
    this.options.log.error({ err, gatewayId: gateway.gatewayId }, 'events batch refused by the store');
    const ids = [...checked.events.map((e) => e.id), ...checked.refused.flatMap((r) => (r.id === null ? [] : [r.id]))];
    await this.deadLetter(rawTopic, gateway.gatewayId, payload, { label: 'store', reason });
    this.sendAck(gateway, [], ids.map((id) => ({ id, reason })));
  }

  /** Acks committed ids and rejects refused ones; reasons are made storable and bounded for the contract. */
  private sendAck(gateway: GatewayRecord, eventIds: string[], rejected: { id: string; reason: string }[]): void {
    if (eventIds.length === 0 && rejected.length === 0) return;
    const bounded = rejected.slice(0, ACK_MAX_IDS).map((r) => ({ id: r.id, reason: storableText(r.reason).slice(0, 512) }));
    let ack: string;
    try {
      ack = encodeMessage('ack', { v: SCHEMA_VERSION, t: Date.now(), eventIds: eventIds.slice(0, ACK_MAX_IDS), ...(bounded.length > 0 ? { rejected: bounded } : {}) });
    } catch (err) {
      this.options.log.error({ err, gatewayId: gateway.gatewayId }, 'ack could not be encoded; the edge will resend');
      return;
    }
    // Not awaited: the ack's own PUBACK has nothing to do with this message's commit.
    this.client?.publish(topicFor(gateway, 'ack'), ack, { qos: 1 }, (err) => {
      if (err) this.options.log.warn({ err: err.message, gatewayId: gateway.gatewayId }, 'ack not sent; the edge will resend and be acked then');
    });
  }

  /** Publishes from the ingest connection (dispatch topics per unit); dropped while disconnected. */
  publish(topic: string, payload: string): void {
    this.client?.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) this.options.log.warn({ err: err.message, topic }, 'publish failed');
    });
  }

  private async onStatus(gateway: GatewayRecord, payload: Buffer, rawTopic: string): Promise<void> {
    const decoded = decodeMessage('status', payload);
    if (!decoded.ok) return this.deadLetter(rawTopic, gateway.gatewayId, payload, { label: decoded.error.includes('schema version') ? 'version' : 'schema', reason: decoded.error });
    if (decoded.value.gatewayId !== gateway.gatewayId) {
      return this.deadLetter(rawTopic, gateway.gatewayId, payload, {
        label: 'gateway_mismatch',
        reason: `gatewayId: ${decoded.value.gatewayId} does not match the topic's gateway ${gateway.gatewayId}`,
      });
    }
    const { state } = decoded.value;
    // No incident here: supervision opens one only when the gateway stays offline beyond the
    // hold-off, and closes it when it stays back (supervision/gateways.ts).
    if (state === 'offline') {
      await markOffline(this.options.store, gateway.gatewayId);
      this.aliveWritten.delete(gateway.gatewayId);
    } else {
      await markAlive(this.options.store, gateway.gatewayId);
      this.aliveWritten.set(gateway.gatewayId, Date.now());
    }
    this.options.metrics.statusMessages.inc({ state });
  }

  private async onTelemetry(gateway: GatewayRecord, payload: Buffer, rawTopic: string): Promise<void> {
    const verdict: Verdict = await this.telemetry.submit(gateway.gatewayId, payload);
    if (!verdict.ok) return this.deadLetter(rawTopic, gateway.gatewayId, payload, { label: verdict.label, reason: verdict.reason });
    this.latest.updateCompact(gateway.gatewayId, verdict.latest);
    this.options.metrics.telemetryReadings.inc(verdict.readings);
    await this.noteAlive(gateway.gatewayId);
  }

  /** Telemetry is proof of life too; writing it more often than SEEN_WRITE_INTERVAL_MS buys nothing. */
  private async noteAlive(gatewayId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.aliveWritten.get(gatewayId) ?? 0) < SEEN_WRITE_INTERVAL_MS) return;
    this.aliveWritten.set(gatewayId, now);
    await markAlive(this.options.store, gatewayId);
  }

  private async deadLetter(topic: string, gatewayId: string | null, payload: Buffer, refusal: Refusal): Promise<void> {
    this.options.metrics.rejected.inc({ reason: refusal.label });
    this.options.log.warn({ topic, gatewayId, reason: refusal.reason }, 'message refused');
    await insertDeadLetter(this.options.store, { topic, gatewayId, reason: refusal.reason, payload });
  }
}
