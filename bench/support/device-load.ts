// Child process of the edge-vs-nodered bench: N MQTT devices on raw sockets (a hand-made CONNECT and
// QoS 1 PUBLISH, so the generator's own CPU stays small next to what it measures), publishing JSON
// gas reports {"gas", "fault", "seq"} on dev/{id}/up. Driven over the fork IPC channel:
//   {cmd:'connect', port, devices}     → {type:'connected', connected, refused}
//   {cmd:'paced', gas, periodMs}       → every device sends one report per period with gas[k]
//                                         (devices spread evenly over the period)
//   {cmd:'saturate', count, window, highFrom, highTo}
//                                      → every device sends `count` reports as fast as PUBACKs come
//                                         back, `window` unacknowledged at a time; gas is high for
//                                         the reports highFrom ≤ k < highTo
// Each phase answers {type:'phase', published, acked, startedAt, endedAt, sent, ackMs}: `sent` holds
// the publish time (performance.timeOrigin-based epoch ms, comparable across processes) of every
// report whose gas crosses the rule's threshold (those that change the alarm), keyed "id/seq".
import net from 'node:net';

export interface LoadDevice {
  id: string;
  username: string;
  password: string;
}

export type LoadCommand =
  | { cmd: 'connect'; port: number; devices: LoadDevice[] }
  | { cmd: 'paced'; gas: number[]; periodMs: number }
  | { cmd: 'saturate'; count: number; window: number; highFrom: number; highTo: number }
  | { cmd: 'close' };

export interface PhaseResult {
  type: 'phase';
  published: number;
  acked: number;
  startedAt: number;
  endedAt: number;
  /** "id/seq" → publish time, for reports that change the alarm. */
  sent: Record<string, number>;
  /** Publish → PUBACK of every report, ms (sorted). */
  ackMs: number[];
}

const now = (): number => performance.timeOrigin + performance.now();

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    out.push(digit);
  } while (n > 0);
  return out;
}

function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** MQTT 3.1.1 CONNECT (§3.1): clean session, username and password, keep-alive off. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0xc2, 0, 0]), mqttString(clientId), mqttString(username), mqttString(password)]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

/** PUBLISH QoS 1 (§3.3): fixed header 0x32, topic, packet id, payload. */
function publishPacket(topic: Buffer, packetId: number, payload: Buffer): Buffer {
  const head = Buffer.from([0x32, ...varint(topic.length + 2 + payload.length)]);
  const id = Buffer.from([packetId >> 8, packetId & 0xff]);
  return Buffer.concat([head, topic, id, payload]);
}

class Device {
  readonly id: string;
  private readonly topic: Buffer;
  private socket: net.Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private packetId = 0;
  private readonly inFlight = new Map<number, { t: number; seq: number }>();
  seq = 0;
  onAck: (seq: number, sentAt: number) => void = () => undefined;

  constructor(id: string) {
    this.id = id;
    this.topic = mqttString(`dev/${id}/up`);
  }

  get unacked(): number {
    return this.inFlight.size;
  }

  connect(port: number, username: string, password: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let connected: boolean | null = null;
      const settle = (ok: boolean): void => {
        if (connected !== null) return;
        connected = ok;
        resolve(ok);
      };
      socket.on('error', () => settle(false));
      socket.on('close', () => settle(false));
      socket.on('connect', () => socket.write(connectPacket(this.id, username, password)));
      socket.on('data', (chunk: Buffer) => this.receive(chunk, settle));
      this.socket = socket;
    });
  }

  private receive(chunk: Buffer, onConnack: (ok: boolean) => void): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; i < 5 && i < this.buffer.length; i++) {
        length += (this.buffer[i]! & 0x7f) * multiplier;
        multiplier *= 128;
        if ((this.buffer[i]! & 0x80) === 0) break;
      }
      const total = i + 1 + length;
      if (i >= this.buffer.length || this.buffer.length < total) return;
      const type = this.buffer[0]! >> 4;
      if (type === 2) onConnack(this.buffer[i + 2] === 0);
      if (type === 4) this.acked(this.buffer.readUInt16BE(i + 1));
      this.buffer = this.buffer.subarray(total);
    }
  }

  private acked(packetId: number): void {
    const entry = this.inFlight.get(packetId);
    if (!entry) return;
    this.inFlight.delete(packetId);
    this.onAck(entry.seq, entry.t);
  }

  /** Publishes the next report; returns its seq and publish time. */
  publish(gas: number): { seq: number; t: number } {
    const seq = ++this.seq;
    this.packetId = (this.packetId % 65535) + 1;
    const payload = Buffer.from(`{"gas":${gas},"fault":false,"seq":${seq}}`);
    const t = now();
    this.inFlight.set(this.packetId, { t, seq });
    this.socket!.write(publishPacket(this.topic, this.packetId, payload));
    return { seq, t };
  }

  close(): void {
    this.socket?.destroy();
  }
}

const THRESHOLD = 50;
const STALL_MS = 15_000;
let devices: Device[] = [];

async function connectAll(port: number, list: LoadDevice[]): Promise<{ connected: number; refused: number }> {
  devices = list.map((d) => new Device(d.id));
  let connected = 0;
  let next = 0;
  // 50 CONNECTs pending at a time: well under the broker's per-address pre-auth limit.
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      if (await devices[i]!.connect(port, list[i]!.username, list[i]!.password)) connected++;
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return { connected, refused: list.length - connected };
}

/** Tracks one phase: publishes, PUBACKs, and the publish times of alarm-changing reports. */
function phase(): { result: PhaseResult; record: (d: Device, gas: number, previousHigh: boolean) => void; done: Promise<void>; expect: (n: number) => void } {
  const result: PhaseResult = { type: 'phase', published: 0, acked: 0, startedAt: now(), endedAt: 0, sent: {}, ackMs: [] };
  let expected = Number.POSITIVE_INFINITY;
  let finish: () => void = () => undefined;
  // A report never acknowledged (lost by the side under test) must not hang the bench: the phase
  // ends when nothing was acknowledged for STALL_MS, and `acked` < `published` says so.
  let lastAck = performance.now();
  const done = new Promise<void>((resolve) => {
    finish = (): void => {
      clearInterval(stall);
      result.endedAt ||= now();
      resolve();
    };
    const stall = setInterval(() => performance.now() - lastAck > STALL_MS && finish(), 1000);
  });
  for (const d of devices) {
    d.onAck = (_seq, sentAt) => {
      const t = now();
      lastAck = performance.now();
      result.acked++;
      result.ackMs.push(t - sentAt);
      if (result.acked >= expected) {
        result.endedAt = t;
        finish();
      }
    };
  }
  const record = (d: Device, gas: number, previousHigh: boolean): void => {
    const { seq, t } = d.publish(gas);
    result.published++;
    if (gas >= THRESHOLD !== previousHigh) result.sent[`${d.id}/${seq}`] = t;
  };
  return { result, record, done, expect: (n) => (expected = n) };
}

async function paced(gas: number[], periodMs: number): Promise<PhaseResult> {
  const p = phase();
  p.expect(devices.length * gas.length);
  const start = performance.now();
  const high = new Map<Device, boolean>();
  devices.forEach((d, i) => {
    let k = 0;
    const fire = (): void => {
      const value = gas[k]!;
      p.record(d, value, high.get(d) ?? false);
      high.set(d, value >= THRESHOLD);
      k++;
      if (k < gas.length) setTimeout(fire, Math.max(0, start + (i / devices.length) * periodMs + k * periodMs - performance.now()));
    };
    setTimeout(fire, (i / devices.length) * periodMs);
  });
  await p.done;
  return p.result;
}

async function saturate(count: number, window: number, highFrom: number, highTo: number): Promise<PhaseResult> {
  const p = phase();
  p.expect(devices.length * count);
  const sentOf = new Map<Device, number>();
  const gasOf = (k: number): number => (k >= highFrom && k < highTo ? 60 : 10);
  const pump = (d: Device): void => {
    let k = sentOf.get(d) ?? 0;
    while (k < count && d.unacked < window) {
      p.record(d, gasOf(k), k > 0 && gasOf(k - 1) >= THRESHOLD);
      k++;
    }
    sentOf.set(d, k);
  };
  for (const d of devices) {
    const onAck = d.onAck;
    d.onAck = (seq, t) => {
      onAck(seq, t);
      pump(d);
    };
  }
  for (const d of devices) pump(d);
  await p.done;
  return p.result;
}

export function runDeviceLoad(): void {
  process.on('message', (raw) => {
    const command = raw as LoadCommand;
    const answer = (value: unknown): void => void process.send!(value);
    if (command.cmd === 'connect') void connectAll(command.port, command.devices).then((r) => answer({ type: 'connected', ...r }));
    else if (command.cmd === 'paced') void paced(command.gas, command.periodMs).then((r) => answer({ ...r, ackMs: r.ackMs.sort((a, b) => a - b) }));
    else if (command.cmd === 'saturate') void saturate(command.count, command.window, command.highFrom, command.highTo).then((r) => answer({ ...r, ackMs: r.ackMs.sort((a, b) => a - b) }));
    else {
      for (const d of devices) d.close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready' });
}
