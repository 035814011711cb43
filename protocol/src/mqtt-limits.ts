// Limits an MQTT server applies before (and around) authentication, shared by the cloud's and the
// edge's embedded brokers (aedes has no packet-size limit and buffers a packet until it is whole).
// - Packet size: the fixed header announces the Remaining Length (MQTT 3.1.1 §2.2.3, a 1-4 byte
//   varint); a packet announcing more than the limit closes the connection before its body is read,
//   so a 200 MiB CONNECT costs nothing. The first packet must be CONNECT (§3.1) and gets a small limit.
// - Pending connections per client address: sockets that have not authenticated yet.
// - Authentication failures per client address: exponential back-off, during which CONNECTs from
//   that address are refused without checking credentials.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { backoffDelay } from './backoff.ts';

export interface MqttLimits {
  /** Largest packet before authentication (the CONNECT with its credentials and will). */
  preAuthPacketBytes: number;
  /** Largest packet after authentication. */
  maxPacketBytes: number;
  /** A socket that has not completed CONNECT by then is closed (aedes `connectTimeout`). */
  connectTimeoutMs: number;
  /** Unauthenticated sockets one address may hold at once. */
  maxPendingPerAddress: number;
  /** Failures from one address before it is refused for `backoffBaseMs` (doubling each further failure). */
  failuresBeforeBackoff: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_MQTT_LIMITS: Readonly<MqttLimits> = Object.freeze({
  preAuthPacketBytes: 64 * 1024,
  maxPacketBytes: 1024 * 1024 + 64 * 1024,
  connectTimeoutMs: 10_000,
  maxPendingPerAddress: 256,
  failuresBeforeBackoff: 10,
  backoffBaseMs: 1000,
  backoffMaxMs: 5 * 60_000,
});

/** Walks packet boundaries in a byte stream; reports the first packet over its limit. */
export class PacketSizeScanner {
  private state: 'header' | 'length' | 'body' = 'header';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private packets = 0;

  constructor(private readonly limitOf: (packetIndex: number) => number) {}

  /** Null while every packet is within its limit, else the reason to close. */
  feed(chunk: Buffer): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.endPacket();
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === 'header') {
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'malformed remaining length (MQTT 3.1.1 §2.2.3)';
        continue;
      }
      const limit = this.limitOf(this.packets);
      if (this.remaining > limit) return `packet of ${this.remaining} bytes announced, limit ${limit}`;
      if (this.remaining === 0) this.endPacket();
      else this.state = 'body';
    }
    return null;
  }

  private endPacket(): void {
    this.state = 'header';
    this.packets += 1;
  }
}

/**
 * The socket as aedes sees it: bytes pass through unchanged while the scanner checks each packet's
 * announced size; a violation destroys the socket before the body arrives.
 */
export class GuardedSocket extends Duplex {
  private authenticated = false;
  private readonly scanner: PacketSizeScanner;

  constructor(
    readonly socket: Socket,
    limits: Pick<MqttLimits, 'preAuthPacketBytes' | 'maxPacketBytes'>,
    onViolation: (reason: string) => void,
  ) {
    super();
    this.scanner = new PacketSizeScanner((index) => (this.authenticated || index > 0 ? limits.maxPacketBytes : limits.preAuthPacketBytes));
    socket.on('data', (chunk: Buffer) => {
      const violation = this.scanner.feed(chunk);
      if (violation !== null) {
        onViolation(violation);
        socket.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
  }

  /** After a successful CONNECT: packets may be as large as `maxPacketBytes`. */
  markAuthenticated(): void {
    if (this.authenticated) return;
    this.authenticated = true;
    this.emit('authenticated');
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return callback();
    this.socket.write(chunk, (err) => callback(err ?? null));
  }

  // Chunks buffered while a write is in flight (or while corked) leave in one socket write:
  // without this, every PUBACK of a burst was its own syscall (issue 12).
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return callback();
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.socket.write(data, (err) => callback(err ?? null));
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}

/** Counts unauthenticated sockets per client address. */
export class PendingPerAddress {
  private readonly pending = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** False when the address already holds `max` unauthenticated sockets. */
  admit(address: string): boolean {
    const n = this.pending.get(address) ?? 0;
    if (n >= this.max) return false;
    this.pending.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = (this.pending.get(address) ?? 1) - 1;
    if (n <= 0) this.pending.delete(address);
    else this.pending.set(address, n);
  }
}

interface FailureState {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

/** Exponential back-off of authentication failures per client address. */
export class FailureBackoff {
  private readonly state = new Map<string, FailureState>();

  constructor(private readonly limits: Pick<MqttLimits, 'failuresBeforeBackoff' | 'backoffBaseMs' | 'backoffMaxMs'>) {}

  /** Milliseconds the address must still wait; 0 when it may try. */
  blockedForMs(address: string, now = Date.now()): number {
    const s = this.state.get(address);
    if (!s) return 0;
    // Forget an address that stayed quiet for the longest back-off.
    if (now - s.lastFailure > this.limits.backoffMaxMs && now >= s.blockedUntil) {
      this.state.delete(address);
      return 0;
    }
    return Math.max(0, s.blockedUntil - now);
  }

  fail(address: string, now = Date.now()): void {
    const s = this.state.get(address) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
    s.failures += 1;
    s.lastFailure = now;
    const over = s.failures - this.limits.failuresBeforeBackoff;
    if (over >= 0) s.blockedUntil = now + backoffDelay(over, { baseMs: this.limits.backoffBaseMs, maxMs: this.limits.backoffMaxMs });
    this.state.set(address, s);
    if (this.state.size > 100_000) this.prune(now);
  }

  succeed(address: string): void {
    this.state.delete(address);
  }

  private prune(now: number): void {
    for (const [address, s] of this.state) if (now >= s.blockedUntil && now - s.lastFailure > this.limits.backoffMaxMs) this.state.delete(address);
  }
}

export type LimitName = 'pending_per_address' | 'packet_size';

/**
 * One MQTT server's pre-authentication limits. `accept` admits a socket (or closes it) and hands
 * aedes the guarded stream; the authenticate hook asks `blockedForMs` first, reports `failed` or
 * `authenticated`.
 */
export class MqttServerGuard {
  private readonly pending: PendingPerAddress;
  private readonly backoff: FailureBackoff;

  constructor(
    readonly limits: MqttLimits,
    private readonly onLimit: (limit: LimitName, address: string, detail: string) => void,
  ) {
    this.pending = new PendingPerAddress(limits.maxPendingPerAddress);
    this.backoff = new FailureBackoff(limits);
  }

  accept(socket: Socket, handle: (stream: GuardedSocket) => void): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (!this.pending.admit(address)) {
      this.onLimit('pending_per_address', address, `more than ${this.limits.maxPendingPerAddress} unauthenticated connections`);
      socket.destroy();
      return;
    }
    let pending = true;
    const release = (): void => {
      if (pending) this.pending.release(address);
      pending = false;
    };
    const guard = new GuardedSocket(socket, this.limits, (reason) => this.onLimit('packet_size', address, reason));
    guard.once('authenticated', release);
    socket.once('close', release);
    handle(guard);
  }

  /** The client address behind aedes' `client.conn`. */
  addressOf(conn: unknown): string {
    return conn instanceof GuardedSocket ? (conn.socket.remoteAddress ?? 'unknown') : 'unknown';
  }

  blockedForMs(conn: unknown): number {
    return this.backoff.blockedForMs(this.addressOf(conn));
  }

  failed(conn: unknown): void {
    this.backoff.fail(this.addressOf(conn));
  }

  authenticated(conn: unknown): void {
    if (conn instanceof GuardedSocket) conn.markAuthenticated();
  }
}
