// Modbus devices on RTU lines and TCP endpoints: one BusScheduler per declared bus, each device
// polled with the reads its profile needs (coalesced), register blocks handed to the pipeline raw.
import type { Logger } from 'pino';
import type { ModbusPoint, ModbusProfile } from '@gridwatch/firmware-profiles';
import type { BoundDevice, BusConfig } from '../../config/index.ts';
import type { EdgeMetrics } from '../../metrics.ts';
import type { Command, Driver, FrameSink } from '../types.ts';
import { interFrameGapMs } from './address.ts';
import { ModbusSerialTransport, type BusEndpoint, type ModbusTransport } from './client.ts';
import { writeRequestFor, type WriteRequest } from './frames.ts';
import { planReads } from './plan.ts';
import { BusScheduler, type BusStats } from './scheduler.ts';
import { isModbusBus, type ModbusBusConfig } from './schema.ts';

export interface ModbusDriverOptions {
  buses: ModbusBusConfig[];
  devices: BoundDevice[];
  logger: Logger;
  metrics?: EdgeMetrics;
  /** Tests may put their own transport under a bus. */
  transportFor?: (bus: ModbusBusConfig) => ModbusTransport;
}

export const DEFAULT_POLL_INTERVAL_MS = 1000;

export function endpointOf(bus: ModbusBusConfig): BusEndpoint {
  return bus.kind === 'tcp'
    ? { kind: 'tcp', host: bus.host, port: bus.port }
    : { kind: 'rtu', path: bus.path, baudRate: bus.baudRate ?? 9600, parity: bus.parity ?? 'none', dataBits: bus.dataBits ?? 8, stopBits: bus.stopBits ?? 1 };
}

export function validateModbusDevice({ device, profile }: BoundDevice, buses: readonly BusConfig[]): string | null {
  if (profile.transport !== 'modbus') return `profile ${profile.id} is not a Modbus profile`;
  if (!device.modbus) return 'no modbus address';
  if (!buses.some((b) => b.id === device.modbus?.bus && isModbusBus(b))) return `unknown Modbus bus ${device.modbus.bus}`;
  return null;
}

export class ModbusDriver implements Driver {
  readonly transport = 'modbus' as const;
  private readonly options: ModbusDriverOptions;
  private readonly schedulers = new Map<string, BusScheduler>();
  private readonly deviceBus = new Map<string, BusScheduler>();
  private readonly profiles = new Map<string, ModbusProfile>();

  constructor(options: ModbusDriverOptions) {
    this.options = options;
  }

  validateDevice(bound: BoundDevice): string | null {
    return validateModbusDevice(bound, this.options.buses);
  }

  async start(sink: FrameSink): Promise<void> {
    const { logger, metrics } = this.options;
    for (const bus of this.options.buses) {
      const transport = this.options.transportFor?.(bus) ?? new ModbusSerialTransport(endpointOf(bus));
      const scheduler = new BusScheduler({
        bus: bus.id,
        transport,
        timeoutMs: bus.timeoutMs ?? (bus.kind === 'rtu' ? 500 : 1000),
        retries: bus.retries ?? 1,
        interFrameMs: bus.kind === 'rtu' ? interFrameGapMs(bus.baudRate ?? 9600) : 0,
        maxBackoffMs: bus.maxBackoffMs ?? 60_000,
        faultyAfter: bus.faultyAfter ?? 3,
        reopenOn: bus.kind === 'tcp' ? ['io', 'timeout', 'short'] : ['io'],
        logger,
        ...(metrics === undefined ? {} : { metrics }),
        onBlocks: (deviceId, blocks, t) => sink({ deviceId, blocks, t }),
        // Communication-loss supervision of polled devices (the profile's heartbeat rule raises device_offline).
        onStatus: (deviceId, faulty) => sink({ deviceId, link: faulty ? 'lost' : 'ok', t: Date.now() }),
      });
      this.schedulers.set(bus.id, scheduler);
    }
    for (const bound of this.options.devices) {
      const { device, profile } = bound;
      const problem = this.validateDevice(bound);
      if (problem !== null || !device.modbus || profile.transport !== 'modbus') throw new Error(`device ${device.id}: ${problem ?? 'not a Modbus device'}`);
      const scheduler = this.schedulers.get(device.modbus.bus)!;
      scheduler.addDevice({
        id: device.id,
        unitId: device.modbus.unitId,
        reads: planReads(profile),
        intervalMs: device.modbus.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      });
      this.deviceBus.set(device.id, scheduler);
      this.profiles.set(device.id, profile);
    }
    for (const scheduler of this.schedulers.values()) scheduler.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
    this.schedulers.clear();
    this.deviceBus.clear();
  }

  async read(deviceIds: readonly string[]): Promise<void> {
    for (const id of deviceIds) if (!this.deviceBus.has(id)) throw new Error(`device ${id} is not a Modbus device`);
    for (const id of deviceIds) this.deviceBus.get(id)?.pollSoon(id);
  }

  /** Writes commands in order; each becomes one FC5/FC6/FC16 request ahead of any poll. */
  async write(deviceId: string, commands: readonly Command[]): Promise<void> {
    const scheduler = this.deviceBus.get(deviceId);
    const profile = this.profiles.get(deviceId);
    if (!scheduler || !profile) throw new Error(`device ${deviceId} is not a Modbus device`);
    const requests: WriteRequest[] = commands.map((c) => {
      const point = profile.points.find((p) => p.name === c.point) as ModbusPoint | undefined;
      if (!point) throw new Error(`device ${deviceId}: no point ${c.point}`);
      return writeRequestFor(point, c.value);
    });
    for (const request of requests) await scheduler.write(deviceId, request);
  }

  stats(): Record<string, BusStats> {
    return Object.fromEntries([...this.schedulers].map(([id, s]) => [id, s.stats()]));
  }
}
