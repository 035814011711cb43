// A device that pushes framed reports on a serial line (one end of a pty pair): frames are built
// from the profile (fields at their byte offsets, length field, checksum, start/end bytes), so
// the gateway decodes exactly what a real controller would send. Scenarios change what is sent.
import { SerialPort } from 'serialport';
import {
  checksumSize,
  hexBytes,
  sealFrame,
  serialWidth,
  writeSerialRaw,
  type SerialPoint,
  type SerialProfile,
} from '@gridwatch/firmware-profiles';

export const SERIAL_SCENARIOS = ['normal', 'alarm', 'silent', 'chattering', 'corrupt', 'short'] as const;
export type SerialScenario = (typeof SERIAL_SCENARIOS)[number];

export interface SerialDeviceOptions {
  path: string;
  baudRate?: number;
  profile: SerialProfile;
  /** Bytes the profile does not describe (address, message type), as hex over the frame start. */
  template?: string;
  /** Report period; 0 = only on demand. */
  everyMs?: number;
}

export class SerialDeviceSim {
  readonly profile: SerialProfile;
  scenario: SerialScenario = 'normal';
  sent = 0;
  private readonly options: SerialDeviceOptions;
  private readonly values = new Map<string, number | boolean>();
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: SerialDeviceOptions) {
    this.options = options;
    this.profile = options.profile;
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate ?? 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => undefined);
    this.port = port;
    const every = this.options.everyMs ?? 0;
    if (every > 0) {
      this.timer = setInterval(() => {
        if (this.scenario === 'chattering') {
          const alarm = this.alarmPoint();
          if (alarm) this.values.set(alarm, !this.values.get(alarm));
        }
        void this.report().catch(() => undefined);
      }, every);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Sets a field in engineering units (enum labels accepted). */
  set(name: string, value: number | boolean | string): void {
    const point = this.point(name);
    let raw: number | boolean = typeof value === 'string' ? Number(Object.entries(point.enum ?? {}).find(([, l]) => l === value)?.[0] ?? Number.NaN) : value;
    if (typeof raw === 'number') {
      if (point.offset !== undefined) raw -= point.offset;
      if (point.scale !== undefined) raw /= point.scale;
      if (point.rawType !== 'float32') raw = Math.round(raw);
    }
    this.values.set(name, raw);
  }

  setScenario(scenario: SerialScenario): void {
    this.scenario = scenario;
    const alarm = this.alarmPoint();
    if (alarm) this.values.set(alarm, scenario === 'alarm');
  }

  /** The frame the device would send now. */
  frame(): Buffer {
    const { framing, points } = this.profile;
    const start = framing.start === undefined ? Buffer.alloc(0) : hexBytes(framing.start);
    const end = framing.end === undefined ? Buffer.alloc(0) : hexBytes(framing.end);
    const sum = checksumSize(framing.checksum.kind);
    const fieldsEnd = Math.max(start.length, ...points.map((p) => p.byteOffset + serialWidth(p)));
    const length = framing.length.kind === 'fixed' ? framing.length.bytes : fieldsEnd + sum + end.length;
    const frame = Buffer.alloc(length);
    if (this.options.template) hexBytes(this.options.template).copy(frame);
    start.copy(frame);
    end.copy(frame, length - end.length);
    if (framing.length.kind === 'prefixed') {
      const { offset, size, adjust } = framing.length;
      const value = length - offset - size - adjust;
      if (size === 1) frame[offset] = value;
      else if ((framing.length.byteOrder ?? 'big') === 'big') frame.writeUInt16BE(value, offset);
      else frame.writeUInt16LE(value, offset);
    }
    for (const point of points) writeSerialRaw(point, frame, this.values.get(point.name) ?? 0);
    return sealFrame(framing, frame);
  }

  /** Sends the current state as one frame, shaped by the scenario. */
  async report(): Promise<void> {
    if (this.scenario === 'silent') return;
    let bytes = this.frame();
    if (this.scenario === 'corrupt') bytes[bytes.length - 1 - (this.profile.framing.end ? hexBytes(this.profile.framing.end).length : 0)]! ^= 0x5a;
    if (this.scenario === 'short') bytes = bytes.subarray(0, Math.max(1, bytes.length - 3));
    await this.writeRaw(bytes);
  }

  /** Writes any bytes, e.g. line noise. */
  async writeRaw(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port) throw new Error('serial device sim is not started');
    this.sent++;
    await new Promise<void>((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve()))));
  }

  private alarmPoint(): string | undefined {
    return this.profile.rules.find((r) => r.kind === 'state')?.point;
  }

  private point(name: string): SerialPoint {
    const point = this.profile.points.find((p) => p.name === name);
    if (!point) throw new Error(`no point ${name}`);
    return point;
  }
}
