// The lean device front end (issue 12): an MQTT 3.1/3.1.1/5 server doing only what local devices
// need, in place of an embedded aedes broker. Per report aedes parsed with mqtt-packet, routed the
// PUBLISH through mqemitter and its offline-subscription lookup (nobody subscribes to `dev/+/up`),
// copied the payload and allocated debug() argument arrays: ~25 % of the agent's CPU at saturation
// plus much of its garbage. Here a PUBLISH is framed and decoded in place, its topic compared as
// bytes with the device's one allowed topic, the payload handed on as a slice of the socket's
// chunk, and the PUBACKs of one event-loop turn leave each connection in one write, in the order
// the PUBLISHes came (MQTT 3.1.1 §4.6), each only after the sink's promise resolved (durable).
// Policy (credentials, identity binding, counting) stays with the driver (driver.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { FailureBackoff, PendingPerAddress, type LimitName, type MqttLimits } from '@gridwatch/protocol';
import { listen } from '../../http/listen.ts';
import type { IPublishPacket } from 'mqtt-packet';
import { ControlDecoder, MalformedPacket, PINGRESP, UNSUPPORTED_VERSION, commandPacket, connack, disconnect, encodePublish, qos2Ack, readVarint, suback, unsuback, writePuback, type ConnectPacket, type ControlPacket, type Subscription } from './packets.ts';
import { downTopic, upTopic } from './topics.ts';

/** What the driver decides; the broker does the protocol. */
export interface LeanBrokerPolicy {
  /** A CONNECT: the device it is bound to, or a 3.1.1 CONNACK return code refusing it. */
  authenticate(connect: ConnectPacket, address: string, blocked: boolean): { deviceId: string } | { refuse: number };
  /** A report on the device's own topic; a returned promise resolves once it is durable. */
  report(deviceId: string, payload: Buffer): unknown;
  /** A PUBLISH (or will) outside the device's topic: the connection closes (no negative PUBACK in 3.1.1). */
  publishRefused(deviceId: string, topic: string): void;
  /** The device's own credential replaced its live connection. */
  takeover(deviceId: string): void;
  limit(limit: LimitName, address: string, detail: string): void;
  connectionError(clientId: string, message: string): void;
}

export interface LeanBrokerOptions {
  host: string;
  port: number;
  limits: MqttLimits;
  policy: LeanBrokerPolicy;
  /** Unacknowledged reports one connection may have in the pipeline before its socket stops being read. */
  inflightPerConnection?: number;
  /** Commands queued for an offline device with a persistent session (cleanSession 0). */
  offlineQueue?: number;
}

/** Per device id: subscription and outgoing commands, kept across connections when cleanSession is 0. */
interface Session {
  clean: boolean;
  /** Granted QoS of the down-topic subscription, -1 when none. */
  downQos: number;
  conn: Connection | null;
  nextId: number;
  /** Outgoing QoS 1 commands not yet PUBACKed (resent with DUP after a reconnect). */
  inflight: Map<number, IPublishPacket>;
  offline: Buffer[];
}

const CLOSED = 2;
const OPEN = 1;
const NOT_AUTHORIZED = 5;

/** One device connection. */
class Connection {
  state = 0;
  version = 4;
  deviceId = '';
  clientId = '';
  /** The only topic this device may publish to, as bytes. */
  topic: Buffer = Buffer.alloc(0);
  session: Session | null = null;
  will: ConnectPacket['will'];
  keepaliveMs = 0;
  idleMs = 0;
  rx = false;
  /** Bytes of an unfinished packet: the header so far, or the whole packet's buffer being filled. */
  private partial: Buffer | null = null;
  private partialFill = 0;
  /** Reports in the pipeline, in arrival order: packet id and kind (PUBACK 0x40 / PUBREC 0x50) per slot, done once durable. */
  private readonly ackIds: Uint16Array;
  private readonly ackType: Uint8Array;
  private readonly ackDone: Uint8Array;
  /** One settle callback per ring slot, made on first use: no closure per report. */
  private readonly settlers: Array<(() => void) | undefined>;
  private head = 0;
  private tail = 0;
  private paused = false;
  /** Packets read while paused, handled once acknowledgements make room. */
  private backlog: Buffer | null = null;
  flushQueued = false;
  /** QoS 2 packet ids received and not yet released (PUBREL), so a resend is not a second report. */
  private qos2: Set<number> | null = null;
  private connectTimer: NodeJS.Timeout | null;
  /** mqtt-packet's parser for everything but an incoming PUBLISH. */
  private readonly decoder = new ControlDecoder();

  constructor(
    readonly socket: Socket,
    readonly address: string,
    private readonly broker: LeanBroker,
    private readonly capacity: number,
  ) {
    this.ackIds = new Uint16Array(capacity);
    this.ackType = new Uint8Array(capacity);
    this.ackDone = new Uint8Array(capacity);
    this.settlers = new Array<(() => void) | undefined>(capacity);
    // Also ends a refused CONNECT whose client keeps the socket open.
    this.connectTimer = setTimeout(() => {
      this.state = CLOSED;
      socket.destroy();
    }, broker.limits.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => broker.policy.connectionError(this.clientId, err.message));
    socket.on('close', () => this.onClose());
  }

  private get pending(): number {
    return this.tail - this.head;
  }

  private onData(chunk: Buffer): void {
    if (this.state === CLOSED) return;
    this.rx = true;
    if (this.paused && this.backlog !== null) {
      this.backlog = Buffer.concat([this.backlog, chunk]);
      return;
    }
    let data = chunk;
    let at = 0;
    if (this.partial !== null) {
      if (this.partialFill < 0) {
        // Only part of a fixed header so far.
        data = Buffer.concat([this.partial, chunk]);
        this.partial = null;
      } else {
        const take = Math.min(this.partial.length - this.partialFill, chunk.length);
        chunk.copy(this.partial, this.partialFill, 0, take);
        this.partialFill += take;
        if (this.partialFill < this.partial.length) return;
        const whole = this.partial;
        this.partial = null;
        if (!this.frame(whole, 0)) return;
        at = take;
      }
    }
    while (at < data.length && this.state !== CLOSED) {
      if (this.paused) {
        // The ring of unacknowledged reports is full: the rest waits (at a packet boundary) for acks.
        this.backlog = data.subarray(at);
        return;
      }
      const next = this.frame(data, at);
      if (next === 0) return;
      at = next;
    }
  }

  /** Handles the packet at `at`; returns the offset after it, or 0 when the data ends inside it (kept) or the connection closed. */
  private frame(data: Buffer, at: number): number {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (;; i++) {
      if (i >= data.length) {
        if (i - at > 4) return this.violation('malformed remaining length (MQTT 3.1.1 §2.2.3)');
        this.partial = Buffer.from(data.subarray(at));
        this.partialFill = -1;
        return 0;
      }
      const byte = data[i]!;
      length += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) break;
      multiplier *= 128;
      if (i - at >= 4) return this.violation('malformed remaining length (MQTT 3.1.1 §2.2.3)');
    }
    const limit = this.state === OPEN ? this.broker.limits.maxPacketBytes : this.broker.limits.preAuthPacketBytes;
    if (length > limit) return this.violation(`packet of ${length} bytes announced, limit ${limit}`);
    const start = i + 1;
    const end = start + length;
    if (end > data.length) {
      // Collect the rest into one buffer of the packet's size (no repeated concatenation).
      this.partial = Buffer.allocUnsafe(end - at);
      this.partialFill = data.copy(this.partial, 0, at);
      return 0;
    }
    try {
      this.packet(data, at, start, end);
    } catch (err) {
      if (!(err instanceof MalformedPacket)) throw err;
      this.broker.policy.connectionError(this.clientId, err.message);
      this.close(0x81);
      return 0;
    }
    return this.state === CLOSED ? 0 : end;
  }

  private violation(reason: string): 0 {
    this.broker.policy.limit('packet_size', this.address, reason);
    this.close(0x95);
    return 0;
  }

  private packet(data: Buffer, at: number, start: number, end: number): void {
    const first = data[at]!;
    if (this.state !== OPEN) {
      if (first !== 0x10) throw new MalformedPacket('the first packet must be CONNECT');
      return this.onConnect(this.decoder.decode(data.subarray(at, end)));
    }
    // The per-report path by hand (packets.ts says why); every other packet through mqtt-packet.
    if (first >> 4 === 3) return this.onPublish(first, data, start, end);
    const p = this.decoder.decode(data.subarray(at, end));
    switch (p.cmd) {
      case 'puback':
        return this.broker.acked(this, p.id);
      case 'pingreq':
        return void this.socket.write(PINGRESP);
      case 'pubrel':
        this.qos2?.delete(p.id);
        return void this.socket.write(qos2Ack(this.version, 'pubcomp', p.id));
      case 'subscribe':
        return this.onSubscribe(p.id, p.subscriptions);
      case 'unsubscribe':
        return this.onUnsubscribe(p.id, p.topics);
      case 'disconnect':
        if (!p.keepWill) this.will = undefined;
        return this.close();
      default:
        throw new MalformedPacket(`unexpected packet ${p.cmd} after CONNECT`);
    }
  }

  private onConnect(p: ControlPacket): void {
    if (p.cmd === 'unsupported') {
      this.socket.end(UNSUPPORTED_VERSION);
      this.state = CLOSED;
      return;
    }
    if (p.cmd !== 'connect') throw new MalformedPacket('the first packet must be CONNECT');
    const c = p.connect;
    this.version = c.version;
    this.clientId = c.clientId;
    const verdict = c.authMethod ? { refuse: NOT_AUTHORIZED } : this.broker.authenticate(c, this.address);
    if ('refuse' in verdict) {
      this.socket.end(connack(c.version, verdict.refuse, false, 0, 0));
      this.state = CLOSED;
      return;
    }
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.state = OPEN;
    this.deviceId = verdict.deviceId;
    this.topic = Buffer.from(upTopic(verdict.deviceId));
    this.will = c.will;
    this.keepaliveMs = c.keepaliveS * 1000;
    this.broker.open(this, c.cleanSession);
  }

  private onPublish(first: number, data: Buffer, start: number, end: number): void {
    const qos = (first >> 1) & 3;
    if (qos === 3) throw new MalformedPacket('PUBLISH with QoS 3');
    if (start + 2 > end) throw new MalformedPacket('PUBLISH ends early');
    const topicLength = data.readUInt16BE(start);
    const topicEnd = start + 2 + topicLength;
    let at = topicEnd;
    let id = 0;
    if (qos > 0) {
      if (at + 2 > end) throw new MalformedPacket('PUBLISH ends early');
      id = data.readUInt16BE(at);
      if (id === 0) throw new MalformedPacket('PUBLISH with packet id 0');
      at += 2;
    }
    if (this.version === 5) {
      const [propsLength, next] = readVarint(data, at, end);
      at = next + propsLength;
      if (at > end) throw new MalformedPacket('PUBLISH properties longer than the packet');
    }
    // Byte comparison with the one allowed topic: no topic string per report.
    const own = topicLength === this.topic.length && data.compare(this.topic, 0, topicLength, start + 2, topicEnd) === 0;
    if (!own) {
      if (topicEnd > end) throw new MalformedPacket('PUBLISH topic longer than the packet');
      this.broker.policy.publishRefused(this.deviceId, data.toString('utf8', start + 2, topicEnd));
      this.will = undefined;
      this.close(0x87);
      return;
    }
    const payload = data.subarray(at, end);
    if (qos === 0) {
      this.broker.policy.report(this.deviceId, payload);
      return;
    }
    if (qos === 2) {
      this.qos2 ??= new Set();
      // A resent QoS 2 PUBLISH before its PUBREL was already taken: acknowledge again, once.
      if (this.qos2.has(id)) return this.enqueueAck(0x50, id, undefined);
      this.qos2.add(id);
    }
    this.enqueueAck(qos === 1 ? 0x40 : 0x50, id, this.broker.policy.report(this.deviceId, payload));
  }

  /** Queues the acknowledgement behind earlier ones; it is written once `result` (the sink's) resolves. */
  private enqueueAck(type: number, id: number, result: unknown): void {
    const slot = this.tail % this.capacity;
    this.ackIds[slot] = id;
    this.ackType[slot] = type;
    this.ackDone[slot] = 0;
    this.tail++;
    if (this.pending >= this.capacity) {
      // Back-pressure: stop reading this device until the pipeline catches up.
      this.paused = true;
      this.socket.pause();
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      // A slot is reused only after its acknowledgement was written, so its callback is free again.
      (result as PromiseLike<unknown>).then((this.settlers[slot] ??= () => this.settle(slot)));
    } else this.settle(slot);
  }

  private settle(slot: number): void {
    if (this.state === CLOSED) return;
    this.ackDone[slot] = 1;
    if (slot === this.head % this.capacity) this.broker.queueFlush(this);
  }

  /** Writes every acknowledgement whose report is durable and all before it are: one write. */
  flush(): void {
    this.flushQueued = false;
    if (this.state === CLOSED) return;
    let n = 0;
    while (this.head + n < this.tail && this.ackDone[(this.head + n) % this.capacity] === 1) n++;
    if (n === 0) return;
    const out = Buffer.allocUnsafe(4 * n);
    for (let k = 0; k < n; k++) {
      const slot = (this.head + k) % this.capacity;
      if (this.ackType[slot] === 0x40) writePuback(out, 4 * k, this.ackIds[slot]!);
      else qos2Ack(this.version, 'pubrec', this.ackIds[slot]!).copy(out, 4 * k);
    }
    this.head += n;
    this.socket.write(out);
    if (this.paused && this.pending < this.capacity) {
      this.paused = false;
      const backlog = this.backlog;
      this.backlog = null;
      if (backlog !== null) this.onData(backlog);
      if (!this.paused) this.socket.resume();
    }
  }

  private onSubscribe(id: number, subscriptions: Subscription[]): void {
    const down = downTopic(this.deviceId);
    // Only the device's own command topic; anything else gets 0x80 (failure), MQTT 3.1.1 §3.9.3.
    const codes = subscriptions.map((s) => (s.topic === down ? Math.min(s.qos, 1) : 0x80));
    for (let k = 0; k < codes.length; k++) if (codes[k] !== 0x80) this.session!.downQos = codes[k]!;
    this.socket.write(suback(this.version, id, codes));
  }

  private onUnsubscribe(id: number, topics: string[]): void {
    const down = downTopic(this.deviceId);
    const codes = topics.map((t) => (t === down && this.session!.downQos >= 0 ? 0x00 : 0x11));
    if (topics.includes(down)) this.session!.downQos = -1;
    this.socket.write(unsuback(this.version, id, codes));
  }

  /** Closes the connection; MQTT 5 clients are told why first (reason code), where there is one. */
  close(reason = 0): void {
    if (this.state === CLOSED) return;
    const wasOpen = this.state === OPEN;
    this.state = CLOSED;
    if (wasOpen && this.version === 5 && reason !== 0) {
      // Tell an MQTT 5 client why; the socket goes once the reason is out (or after a second).
      this.socket.end(disconnect(reason));
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
  }

  private onClose(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const wasOpen = this.deviceId !== '';
    this.state = CLOSED;
    this.broker.closed(this, wasOpen);
  }
}

/** The server: connections, sessions, keepalive and command delivery. */
export class LeanBroker {
  readonly limits: MqttLimits;
  readonly policy: LeanBrokerPolicy;
  private readonly pendingAuth: PendingPerAddress;
  private readonly backoff: FailureBackoff;
  private readonly connections = new Set<Connection>();
  /** The live connection per client id (the device id, unless a test turns the identity binding off). */
  private readonly live = new Map<string, Connection>();
  private readonly sessions = new Map<string, Session>();
  private readonly flushes: Connection[] = [];
  private flushScheduled = false;
  private server: Server | null = null;
  private sweep: NodeJS.Timeout | null = null;
  private readonly inflight: number;
  private readonly offlineLimit: number;
  port = 0;

  constructor(private readonly options: LeanBrokerOptions) {
    this.limits = options.limits;
    this.policy = options.policy;
    this.pendingAuth = new PendingPerAddress(options.limits.maxPendingPerAddress);
    this.backoff = new FailureBackoff(options.limits);
    this.inflight = options.inflightPerConnection ?? 64;
    this.offlineLimit = options.offlineQueue ?? 64;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    this.port = await listen(server, this.options.port, this.options.host);
    this.sweep = setInterval(() => this.keepalive(), 1000);
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (this.sweep) clearInterval(this.sweep);
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (!this.pendingAuth.admit(address)) {
      this.policy.limit('pending_per_address', address, `more than ${this.limits.maxPendingPerAddress} unauthenticated connections`);
      socket.destroy();
      return;
    }
    this.connections.add(new Connection(socket, address, this, this.inflight));
  }

  /** The driver's verdict, with the address back-off around it. */
  authenticate(c: ConnectPacket, address: string): { deviceId: string } | { refuse: number } {
    const verdict = this.policy.authenticate(c, address, this.backoff.blockedForMs(address) > 0);
    if ('refuse' in verdict && verdict.refuse !== 3) this.backoff.fail(address);
    return verdict;
  }

  /** A CONNECT accepted: takes over a live connection of the same device, resumes or starts its session. */
  open(conn: Connection, clean: boolean): void {
    this.pendingAuth.release(conn.address);
    const previous = this.live.get(conn.clientId);
    if (previous !== undefined && previous !== conn && previous.state !== CLOSED) {
      this.policy.takeover(conn.deviceId);
      previous.close(0x8e);
    }
    this.live.set(conn.clientId, conn);
    let session = this.sessions.get(conn.clientId);
    const present = !clean && session !== undefined && !session.clean;
    if (!present) {
      session = { clean, downQos: -1, conn: null, nextId: 0, inflight: new Map(), offline: [] };
      this.sessions.set(conn.clientId, session);
    }
    session!.clean = clean;
    session!.conn = conn;
    conn.session = session!;
    conn.socket.write(connack(conn.version, 0, present, this.inflight, this.limits.maxPacketBytes));
    if (present) this.resend(session!, conn);
  }

  private resend(session: Session, conn: Connection): void {
    for (const packet of session.inflight.values()) conn.socket.write(encodePublish(conn.version, { ...packet, dup: true }));
    const queued = session.offline;
    session.offline = [];
    for (const payload of queued) this.deliver(session, conn, payload);
  }

  closed(conn: Connection, wasOpen: boolean): void {
    this.connections.delete(conn);
    if (!wasOpen) {
      this.pendingAuth.release(conn.address);
      return;
    }
    if (this.live.get(conn.clientId) === conn) this.live.delete(conn.clientId);
    const session = conn.session;
    if (session && session.conn === conn) {
      session.conn = null;
      if (session.clean && this.sessions.get(conn.clientId) === session) this.sessions.delete(conn.clientId);
    }
    const will = conn.will;
    conn.will = undefined;
    if (!will) return;
    // A will is a PUBLISH like any other: on the device's topic it is a report, elsewhere refused.
    if (will.topic === upTopic(conn.deviceId)) this.policy.report(conn.deviceId, will.payload);
    else this.policy.publishRefused(conn.deviceId, will.topic);
  }

  queueFlush(conn: Connection): void {
    if (conn.flushQueued) return;
    conn.flushQueued = true;
    this.flushes.push(conn);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the poll phase: every connection's acknowledgements of this turn leave together.
    setImmediate(() => {
      this.flushScheduled = false;
      const list = this.flushes.splice(0);
      for (const c of list) c.flush();
    });
  }

  acked(conn: Connection, id: number): void {
    conn.session?.inflight.delete(id);
  }

  /** Sends a command to a device's down topic; rejects when it cannot be delivered or queued. */
  command(deviceId: string, payload: Buffer): void {
    const session = this.sessions.get(deviceId);
    if (!session || session.downQos < 0) throw new Error(`device ${deviceId} is not subscribed to ${downTopic(deviceId)}`);
    if (session.conn) return this.deliver(session, session.conn, payload);
    if (session.downQos === 0) throw new Error(`device ${deviceId} is offline (QoS 0 subscription)`);
    if (session.offline.length >= this.offlineLimit) throw new Error(`device ${deviceId} is offline with ${session.offline.length} commands queued`);
    session.offline.push(payload);
  }

  private deliver(session: Session, conn: Connection, payload: Buffer): void {
    if (session.downQos === 0) return void conn.socket.write(encodePublish(conn.version, commandPacket(downTopic(conn.deviceId), payload, 0, 0)));
    do session.nextId = (session.nextId % 65535) + 1;
    while (session.inflight.has(session.nextId));
    const packet = commandPacket(downTopic(conn.deviceId), payload, 1, session.nextId);
    session.inflight.set(session.nextId, packet);
    conn.socket.write(encodePublish(conn.version, packet));
  }

  /** Closes connections silent for 1.5 × their keepalive (MQTT 3.1.1 §3.1.2.10). */
  private keepalive(): void {
    for (const c of this.connections) {
      if (c.keepaliveMs === 0) continue;
      if (c.rx) {
        c.rx = false;
        c.idleMs = 0;
      } else if ((c.idleMs += 1000) > c.keepaliveMs * 1.5) c.close(0x8d);
    }
  }
}
