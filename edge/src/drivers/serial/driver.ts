// Framed serial devices: one connection and one frame splitter per `kind: serial` bus. Whole
// frames go to the pipeline raw; the decoder checks start, end, length and checksum. Noise
// between frames, truncated and oversize frames are counted per device and logged once per burst.
import type { Logger } from 'pino';
import type { SerialProfile } from '@gridwatch/firmware-profiles';
import type { BoundDevice, BusConfig } from '../../config/index.ts';
import type { EdgeMetrics } from '../../metrics.ts';
import type { Command, Driver, FrameSink } from '../types.ts';
import { FRAME_TIMEOUT_MS, type SerialErrorKind } from './address.ts';
import { SerialConnection } from './connection.ts';
import { FrameSplitter } from './framer.ts';
import { isSerialBus, type SerialBusConfig } from './schema.ts';

export interface SerialDriverOptions {
  buses: SerialBusConfig[];
  devices: BoundDevice[];
  logger: Logger;
  metrics?: EdgeMetrics;
}

interface Line {
  deviceId: string;
  connection: SerialConnection | null;
  splitter: FrameSplitter;
  lastByte: number;
  burst: number;
  errors: Partial<Record<SerialErrorKind, number>>;
  frames: number;
}

export function validateSerialDevice({ device, profile }: BoundDevice, buses: readonly BusConfig[]): string | null {
  if (profile.transport !== 'serial') return `profile ${profile.id} is not a serial profile`;
  if (!device.serial) return 'no serial bus';
  if (!buses.some((b) => b.id === device.serial?.bus && isSerialBus(b))) return `unknown serial bus ${device.serial.bus}`;
  return null;
}

export class SerialDriver implements Driver {
  readonly transport = 'serial' as const;
  private readonly options: SerialDriverOptions;
  private readonly lines = new Map<string, Line>();

  constructor(options: SerialDriverOptions) {
    this.options = options;
  }

  validateDevice(bound: BoundDevice): string | null {
    return validateSerialDevice(bound, this.options.buses);
  }

  async start(sink: FrameSink): Promise<void> {
    for (const bound of this.options.devices) {
      const problem = this.validateDevice(bound);
      const { device } = bound;
      if (problem !== null || !device.serial) throw new Error(`device ${device.id}: ${problem ?? 'not a serial device'}`);
      const bus = this.options.buses.find((b) => b.id === device.serial?.bus)!;
      const profile = bound.profile as SerialProfile;
      const line: Line = { deviceId: device.id, connection: null, splitter: new FrameSplitter(profile.framing), lastByte: 0, burst: 0, errors: {}, frames: 0 };
      line.connection = new SerialConnection(
        { path: bus.path, baudRate: bus.baudRate ?? 9600, parity: bus.parity ?? 'none', dataBits: bus.dataBits ?? 8, stopBits: bus.stopBits ?? 1 },
        (chunk) => this.receive(line, chunk, sink),
        (err) => this.count(line, 'io', err.message),
      );
      this.lines.set(device.id, line);
      line.connection?.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.lines.values()].map((l) => l.connection?.stop()));
    this.lines.clear();
  }

  /** Push transport: devices send frames on their own. */
  async read(): Promise<void> {}

  async write(deviceId: string, commands: readonly Command[]): Promise<void> {
    throw new Error(`device ${deviceId}: serial profiles define no commands yet (${commands.map((c) => c.point).join(', ')})`);
  }

  stats(): Record<string, { frames: number; errors: Partial<Record<SerialErrorKind, number>> }> {
    return Object.fromEntries([...this.lines.values()].map((l) => [l.deviceId, { frames: l.frames, errors: { ...l.errors } }]));
  }

  private receive(line: Line, chunk: Buffer, sink: FrameSink): void {
    const now = Date.now();
    // Silence in the middle of a frame: what came before was truncated.
    if (line.splitter.pending > 0 && now - line.lastByte > FRAME_TIMEOUT_MS && line.splitter.flush()) this.count(line, 'short', 'frame cut off by silence');
    line.lastByte = now;
    const { frames, errors } = line.splitter.push(chunk);
    for (const kind of errors) this.count(line, kind, `bad input on the line (${kind})`);
    for (const payload of frames) {
      line.frames++;
      if (line.burst > 0) {
        this.options.logger.info({ deviceId: line.deviceId, errors: line.burst }, 'device frames good again');
        line.burst = 0;
      }
      sink({ deviceId: line.deviceId, payload, t: now });
    }
  }

  private count(line: Line, kind: SerialErrorKind, message: string): void {
    line.errors[kind] = (line.errors[kind] ?? 0) + 1;
    this.options.metrics?.deviceErrors.inc({ device: line.deviceId, kind });
    if (line.burst++ === 0) this.options.logger.warn({ deviceId: line.deviceId, kind, err: message }, 'device error');
  }
}
