// One scheduler per bus (serial line or host:port). A Modbus bus is half-duplex with one master
// (MSL §2.1): exactly one request is in flight, always. The loop:
//   1. writes (sirens, relays) go first, in arrival order;
//   2. then the device whose poll is most overdue; each of its coalesced reads is one request,
//      retried `retries` times on timeout/CRC error;
//   3. between two requests on an RTU line, the 3.5-character silence of MSL §2.5.1.1.
// A device that fails a poll backs off exponentially (interval × 2^(n-1), capped), so a dead
// device costs the bus a few timeouts per minute and cannot starve the others. After
// `faultyAfter` failed polls in a row it is marked faulty; its first answer recovers it. An
// endpoint that cannot be opened (TCP port closed, adapter gone) counts as a failed poll for every
// device due on it, so its devices go faulty too. Each change (and the first answer after start,
// which clears a verdict persisted by an earlier run) goes to `onStatus`: the supervision of
// polled devices. A poll cycle ends only when `onBlocks`' promise resolves (its events are
// committed); until then that device is not polled again, while writes and other devices go on.
// Errors are counted per device and kind, and logged once per burst (first error, then recovery).
import type { Logger } from 'pino';
import { backoffDelay } from '@gridwatch/protocol';
import type { EdgeMetrics } from '../../metrics.ts';
import type { RegisterBlock } from '../../types.ts';
import { ModbusIoError, type ModbusErrorKind, type ModbusTransport } from './client.ts';
import type { ReadRequest, WriteRequest } from './frames.ts';

export interface SchedulerOptions {
  bus: string;
  transport: ModbusTransport;
  /** Per request. */
  timeoutMs: number;
  /** Extra attempts after a failed request (timeout, CRC, short frame); exceptions are not retried. */
  retries: number;
  /** Silence before each request (RTU 3.5 characters); 0 for TCP. */
  interFrameMs: number;
  /** Cap of the back-off of a failing device. */
  maxBackoffMs: number;
  /** Failed polls in a row before the device is marked faulty. */
  faultyAfter: number;
  /**
   * Error kinds after which the connection is dropped and re-opened. On TCP a late or partial
   * answer left in the stream would be mistaken for the next one, so timeouts and short frames
   * reconnect; an RTU port resynchronises on the next frame and only reopens on I/O errors.
   */
  reopenOn: readonly ModbusErrorKind[];
  logger: Logger;
  metrics?: EdgeMetrics;
  /** May return a promise that resolves when the blocks' events are committed. */
  onBlocks: (deviceId: string, blocks: RegisterBlock[], t: number) => unknown;
  onStatus?: (deviceId: string, faulty: boolean) => void;
}

export interface PolledDevice {
  id: string;
  unitId: number;
  reads: ReadRequest[];
  intervalMs: number;
}

interface DeviceState extends PolledDevice {
  due: number;
  failures: number;
  /** Null until the first poll after start decided it. */
  faulty: boolean | null;
  /** The previous cycle's events are not committed yet. */
  committing: boolean;
  burst: number;
  polls: number;
  errors: Partial<Record<ModbusErrorKind, number>>;
}

interface PendingWrite {
  device: DeviceState;
  request: WriteRequest;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface BusStats {
  requests: number;
  errors: number;
  busyMs: number;
  devices: Record<string, { polls: number; failures: number; faulty: boolean; errors: Partial<Record<ModbusErrorKind, number>> }>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class BusScheduler {
  private readonly options: SchedulerOptions;
  private readonly devices = new Map<string, DeviceState>();
  private readonly writes: PendingWrite[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private lastFrameEnd = 0;
  private openFailures = 0;
  private requests = 0;
  private errorCount = 0;
  private busyMs = 0;
  private windowStart = 0;
  private windowBusy = 0;

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  get bus(): string {
    return this.options.bus;
  }

  addDevice(device: PolledDevice): void {
    this.devices.set(device.id, { ...device, due: 0, failures: 0, faulty: null, committing: false, burst: 0, polls: 0, errors: {} });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = Date.now();
    this.windowStart = now;
    // Stagger first polls over one interval so devices do not all fall due at once.
    let i = 0;
    for (const device of this.devices.values()) device.due = now + Math.floor((device.intervalMs * i++) / Math.max(1, this.devices.size));
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt();
    await this.loop;
    this.loop = null;
    for (const w of this.writes.splice(0)) w.reject(new Error(`bus ${this.options.bus} stopped`));
    await this.options.transport.close();
  }

  /** Queues a write ahead of every poll; resolves when the device confirmed it. */
  write(deviceId: string, request: WriteRequest): Promise<void> {
    const device = this.devices.get(deviceId);
    if (!device) return Promise.reject(new Error(`device ${deviceId} is not on bus ${this.options.bus}`));
    if (!this.running) return Promise.reject(new Error(`bus ${this.options.bus} is not running`));
    return new Promise<void>((resolve, reject) => {
      this.writes.push({ device, request, resolve, reject });
      this.interrupt();
    });
  }

  /** Makes a device due now (a read on demand); it still waits for writes and the request in flight. */
  pollSoon(deviceId: string): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    device.due = Math.min(device.due, Date.now());
    this.interrupt();
  }

  stats(): BusStats {
    const devices: BusStats['devices'] = {};
    for (const d of this.devices.values()) devices[d.id] = { polls: d.polls, failures: d.failures, faulty: d.faulty === true, errors: { ...d.errors } };
    return { requests: this.requests, errors: this.errorCount, busyMs: this.busyMs, devices };
  }

  private interrupt(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  private async run(): Promise<void> {
    const { transport, logger, bus } = this.options;
    while (this.running) {
      if (!transport.isOpen) {
        try {
          await transport.open();
          if (this.openFailures > 0) logger.info({ bus }, 'bus open again');
          this.openFailures = 0;
        } catch (err) {
          if (this.openFailures++ === 0) logger.error({ bus, err: (err as Error).message }, 'cannot open bus; retrying with back-off');
          // Nobody on this bus can answer: each device due now has missed its poll.
          const now = Date.now();
          for (const d of this.devices.values()) if (d.due <= now) this.failed(d, now);
          await this.idle(backoffDelay(this.openFailures, { baseMs: 500, maxMs: Math.min(this.options.maxBackoffMs, 30_000) }));
          continue;
        }
      }
      const write = this.writes.shift();
      if (write) {
        await this.doWrite(write);
        continue;
      }
      let next: DeviceState | null = null;
      for (const d of this.devices.values()) if (!d.committing && (!next || d.due < next.due)) next = d;
      if (!next) {
        await this.idle(60_000);
        continue;
      }
      const wait = next.due - Date.now();
      if (wait > 0) {
        await this.idle(wait);
        continue;
      }
      await this.poll(next);
    }
  }

  /** One request with the inter-frame silence before it; counts busy time and bus metrics. */
  private async transact<T>(run: () => Promise<T>): Promise<T> {
    const gap = this.options.interFrameMs - (performance.now() - this.lastFrameEnd);
    if (gap > 0) await sleep(gap);
    const started = performance.now();
    this.requests++;
    this.options.metrics?.busRequests.inc({ bus: this.options.bus });
    try {
      return await run();
    } catch (err) {
      this.errorCount++;
      throw err;
    } finally {
      this.lastFrameEnd = performance.now();
      const busy = this.lastFrameEnd - started;
      this.busyMs += busy;
      this.windowBusy += busy;
      this.updateUtilisation();
    }
  }

  private updateUtilisation(): void {
    const now = Date.now();
    const elapsed = now - this.windowStart;
    if (elapsed < 2000) return;
    this.options.metrics?.busUtilisation.set({ bus: this.options.bus }, Math.min(1, this.windowBusy / elapsed));
    this.windowStart = now;
    this.windowBusy = 0;
  }

  private async attempt<T>(device: DeviceState, run: () => Promise<T>): Promise<T> {
    let lastError: ModbusIoError | null = null;
    for (let attempt = 0; attempt <= this.options.retries && this.running; attempt++) {
      try {
        return await this.transact(run);
      } catch (err) {
        lastError = err instanceof ModbusIoError ? err : new ModbusIoError('io', (err as Error).message);
        this.countError(device, lastError);
        // An exception is the device's considered answer; asking again gives the same one.
        if (lastError.kind === 'exception') break;
        if (this.options.reopenOn.includes(lastError.kind)) {
          // Drop the client; the next attempt (or the loop) re-opens it.
          await this.options.transport.close();
          if (lastError.kind === 'io') break;
          await this.reopen();
        }
      }
    }
    throw lastError ?? new ModbusIoError('io', `bus ${this.options.bus} stopped`);
  }

  private async reopen(): Promise<void> {
    try {
      await this.options.transport.open();
    } catch {
      // The loop keeps trying with back-off.
    }
  }

  private async poll(device: DeviceState): Promise<void> {
    const { transport, timeoutMs } = this.options;
    const blocks: RegisterBlock[] = [];
    let failed = false;
    for (const read of device.reads) {
      try {
        const values = await this.attempt(device, () => transport.read(device.unitId, read, timeoutMs));
        blocks.push({ table: read.table, address: read.address, values });
      } catch {
        failed = true;
        break;
      }
    }
    const now = Date.now();
    if (blocks.length > 0) this.deliver(device, blocks, now);
    if (failed) {
      this.failed(device, now);
      return;
    }
    device.polls++;
    if (device.burst > 0) {
      this.options.logger.info({ bus: this.options.bus, deviceId: device.id, errors: device.burst }, 'device answering again');
      device.burst = 0;
    }
    if (device.faulty !== false) {
      if (device.faulty) this.options.metrics?.deviceFaulty.set({ device: device.id }, 0);
      device.faulty = false;
      this.options.onStatus?.(device.id, false);
    }
    const wasFailing = device.failures > 0;
    device.failures = 0;
    // Keep the configured rate: the next poll is one interval after the scheduled one, so a poll
    // delayed by another device's timeout is caught up; after a long stall, restart from now.
    device.due = wasFailing || device.due + device.intervalMs < now - device.intervalMs ? now + device.intervalMs : device.due + device.intervalMs;
  }

  /** Hands the blocks on; the device sits out until their events are committed. */
  private deliver(device: DeviceState, blocks: RegisterBlock[], t: number): void {
    const result = this.options.onBlocks(device.id, blocks, t);
    if (!(result instanceof Promise)) return;
    device.committing = true;
    const done = () => {
      device.committing = false;
      this.interrupt();
    };
    result.then(done, (err: unknown) => {
      this.options.logger.error({ bus: this.options.bus, deviceId: device.id, err: (err as Error).message }, 'poll result not processed');
      done();
    });
  }

  /** One missed poll: back off, and after `faultyAfter` in a row mark the device faulty. */
  private failed(device: DeviceState, now: number): void {
    device.failures++;
    device.due = now + backoffDelay(device.failures - 1, { baseMs: device.intervalMs, maxMs: this.options.maxBackoffMs });
    if (device.faulty !== true && device.failures >= this.options.faultyAfter) {
      device.faulty = true;
      this.options.metrics?.deviceFaulty.set({ device: device.id }, 1);
      this.options.logger.warn({ bus: this.options.bus, deviceId: device.id, failures: device.failures }, 'device faulty: not answering');
      this.options.onStatus?.(device.id, true);
    }
  }

  private async doWrite(write: PendingWrite): Promise<void> {
    try {
      await this.attempt(write.device, () => this.options.transport.write(write.device.unitId, write.request, this.options.timeoutMs));
      write.resolve();
      // Read back soon so the new state is reported.
      write.device.due = Math.min(write.device.due, Date.now());
    } catch (err) {
      write.reject(err as Error);
    }
  }

  private countError(device: DeviceState, err: ModbusIoError): void {
    device.errors[err.kind] = (device.errors[err.kind] ?? 0) + 1;
    this.options.metrics?.busErrors.inc({ bus: this.options.bus, kind: err.kind });
    this.options.metrics?.deviceErrors.inc({ device: device.id, kind: err.kind });
    if (device.burst++ === 0) {
      this.options.logger.warn({ bus: this.options.bus, deviceId: device.id, unitId: device.unitId, kind: err.kind, err: err.message }, 'device error');
    }
  }
}
