// One RS-485 line with Modbus RTU slaves, served on one end of a pty pair (see ../pty.ts). The
// pty delivers bytes instantly, so the line model adds the time a real line would take
// (MODBUS over Serial Line V1.02 §2.5.1): each character is 11 bits, a frame ends after 3.5
// character times of silence, then the slave's turnaround, then the response's own characters:
//   answer delay = (request bytes + 3.5) × char time + turnaround + response bytes × char time.
// Several unit ids share the line; a unit that is silent or absent never answers, as on a bus.
import { SerialPort } from 'serialport';
import { crc16Modbus } from '@gridwatch/firmware-profiles';
import { rtuRequestLength, type ModbusDeviceSim } from './device.ts';

export interface RtuLineOptions {
  path: string;
  baudRate: number;
  /** Slave turnaround after the request's 3.5-character gap, ms. */
  turnaroundMs?: number;
  devices: ModbusDeviceSim[];
  /** false: answer at once (for tests that do not need bus timing). Default true. */
  timing?: boolean;
}

export function charTimeMs(baudRate: number): number {
  return (11 * 1000) / baudRate;
}

/** Time one poll (request + answer) occupies the line, the master's 3.5-character gap included. */
export function rtuPollTimeMs(baudRate: number, requestBytes: number, responseBytes: number, turnaroundMs: number): number {
  const tc = charTimeMs(baudRate);
  return (requestBytes + responseBytes + 7) * tc + turnaroundMs;
}

export class RtuLineSim {
  private readonly options: RtuLineOptions;
  private readonly units: Map<number, ModbusDeviceSim>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private port: SerialPort | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private lastByte = 0;
  /** Frames dropped for a bad CRC or an unknown function (line noise). */
  dropped = 0;

  constructor(options: RtuLineOptions) {
    this.options = options;
    this.units = new Map(options.devices.map((d) => [d.unitId, d]));
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    port.on('error', () => undefined);
    this.port = port;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const d of this.units.values()) d.stopChatter();
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private receive(chunk: Buffer): void {
    const now = performance.now();
    // A silence longer than a frame gap means any partial frame before it was noise (§2.5.1.1);
    // the pty has no real silence, so use a generous bound.
    if (this.buf.length > 0 && now - this.lastByte > 50) this.buf = Buffer.alloc(0);
    this.lastByte = now;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const length = rtuRequestLength(this.buf);
      if (length === null) return;
      if (length === -1 || length > 256) {
        this.dropped++;
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < length) return;
      const frame = this.buf.subarray(0, length);
      if (crc16Modbus(frame, 0, length - 2) !== frame.readUInt16LE(length - 2)) {
        // Resynchronise one byte later: slaves ignore frames with a bad CRC (MSL §2.5.1.2).
        this.dropped++;
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(length);
      this.dispatch(Buffer.from(frame));
    }
  }

  private dispatch(frame: Buffer): void {
    const device = this.units.get(frame[0]!);
    if (!device) return;
    const pdu = device.handle(frame.subarray(1, frame.length - 2));
    if (!pdu) return;
    const adu = Buffer.alloc(pdu.length + 3);
    adu[0] = device.unitId;
    pdu.copy(adu, 1);
    adu.writeUInt16LE(crc16Modbus(adu, 0, adu.length - 2), adu.length - 2);
    const out: Buffer = adu;
    if (device.scenario === 'corrupt') {
      out[out.length - 1]! ^= 0xff; // CRC error
    }
    const { baudRate, turnaroundMs = 5, timing = true } = this.options;
    const tc = charTimeMs(baudRate);
    let delay = timing ? (frame.length + 3.5) * tc + turnaroundMs + out.length * tc : 0;
    if (device.scenario === 'slow') delay += device.slowMs;
    // Timers run in whole milliseconds; round up so the simulated line is never faster than a real one.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.port?.write(out);
    }, Math.ceil(delay));
    this.timers.add(timer);
  }
}
