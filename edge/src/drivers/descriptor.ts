// What a transport tells the rest of the edge about itself: one descriptor per `drivers/<id>/`,
// listed in `registry.ts`. Config validation, device binding, the agent, the decoder and the
// installer CLI ask the registry; none of them names a transport (after Telegraf's
// `plugins/inputs/all` and node-wot's binding factories).
import type { Static, TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { ProfileTransport, RawInput, VectorsFile } from '@gridwatch/firmware-profiles';
import type { BoundDevice, BusConfig, DeviceConfig, EdgeConfig } from '../config/schema.ts';
import type { EdgeMetrics } from '../metrics.ts';
import type { Driver } from './types.ts';

/** A problem a transport reports to a person (CLI): what went wrong, what to do next, and of which kind. */
export class TransportProblem extends Error {
  override readonly name = 'TransportProblem';
  constructor(
    message: string,
    readonly kind: 'usage' | 'unreachable' | 'failed',
    readonly next: string,
  ) {
    super(message);
  }
}

/** What binding one device's transport block may use: the declared buses and the taken addresses. */
export interface BindContext<Block> {
  device: DeviceConfig;
  block: Block;
  /** JSON path of the block, e.g. `/devices/2/modbus`. */
  at: string;
  buses: ReadonlyMap<string, BusConfig>;
  /** Throws the start-up error at `path`. */
  fail(path: string, message: string): never;
  /** Claims an address for this device; returns the id of the device that already holds it, if any. */
  claim(key: string): string | undefined;
}

export interface DriverContext {
  config: EdgeConfig;
  /** The devices whose profile uses this transport. */
  devices: BoundDevice[];
  logger: Logger;
  metrics: EdgeMetrics;
}

/** Values of the installer's device flags (`gridwatch device add|edit`) or of a CSV row, by flag name. */
export type DeviceFlags = Readonly<Record<string, unknown>>;

export interface CliSupport<Block> {
  /** Options of `device add|edit` and CSV columns this transport reads: [commander flags, help]. */
  options: ReadonlyArray<readonly [flags: string, help: string]>;
  /** The device block from flags (over `base` when editing); throws a TransportProblem naming the flag as `nameOf` does. */
  blockFromFlags(deviceId: string, profileId: string, flags: DeviceFlags, base: Block | undefined, nameOf: (key: string) => string): Block;
  /** Reads every point once through the driver code (`gridwatch read`); stop the agent first on a serial line. */
  readOnce?(device: BoundDevice, config: EdgeConfig): Promise<RawInput>;
  /**
   * Plays a device's test press on the running agent (`gridwatch test --simulate`) with the input of
   * its profile's vectors (the case that raises a test event); returns the release.
   */
  simulateTest?(device: BoundDevice, agent: { host: string; localPort: number }, vectors: VectorsFile): Promise<() => Promise<void>>;
}

/** Finds devices on a bus (`gridwatch scan`): any answer, even an error answer, means one is there. */
export interface Discovery {
  /** Name of the address, and its range, e.g. unit id 1–247. */
  address: { name: string; flag: string; min: number; max: number };
  scan(bus: BusConfig, range: { from: number; to: number; timeoutMs: number }, onProbe: (found: number) => void): Promise<Array<{ address: number; answer: string }>>;
  /** Where a configured device sits on `busId`, or undefined when it is elsewhere. */
  addressOf(device: DeviceConfig, busId: string): number | undefined;
}

export interface TransportDescriptor<Id extends string = string, Device extends TObject = TObject, Buses extends Record<string, TObject> = Record<string, TObject>> {
  /** The transport id: the profiles' `transport` and the device's block key (`devices[i].<id>`). */
  readonly id: Id;
  /** The profile half (point schema, checks, raw-value extraction), from firmware-profiles. */
  readonly profile: ProfileTransport;
  /** Schema of the device's `<id>:` block. */
  readonly device: Device;
  /** Bus kinds this transport declares under `buses`, by `kind`; each schema has `id` and `kind`. */
  readonly buses: Buses;
  /** Start-up checks of one device's block beyond its schema (bus exists and has the right kind, address free). */
  bind?(ctx: BindContext<Static<Device>>): void;
  /** Why this device cannot run on this transport's driver, or null (also asked by the driver at start). */
  validateDevice(device: BoundDevice, buses: readonly BusConfig[]): string | null;
  /** The driver for these devices, or null when it has nothing to do (no devices on a polled bus). */
  createDriver(ctx: DriverContext): Driver | null;
  /** One line saying where a device sits, for people: `rtu0 unit 3`. */
  describe(block: Static<Device>): string;
  readonly cli: CliSupport<Static<Device>>;
  readonly discovery?: Discovery;
}

/** A descriptor with its types erased, as the registry holds it. */
export type AnyTransportDescriptor = TransportDescriptor<string, TObject, Record<string, TObject>>;
