// The shape every transport driver shares (after node-wot's bindings and EdgeX's ProtocolDriver).
// Drivers return raw frames; decoding belongs to the profile pipeline, never to a driver.
import type { BoundDevice } from '../config/index.ts';
import type { RegisterBlock } from '../types.ts';

/** A device's raw report as received: MQTT payload bytes or one serial frame. */
export interface BytesFrame {
  deviceId: string;
  payload: Buffer;
  /** Receive time, epoch ms. */
  t: number;
}

/** One poll of a Modbus device: the blocks that were read, raw. */
export interface RegisterFrame {
  deviceId: string;
  blocks: RegisterBlock[];
  t: number;
}

/** A polled bus's verdict on a device's link: lost after failed polls or an unreachable endpoint, ok on its next answer. */
export interface LinkFrame {
  deviceId: string;
  link: 'lost' | 'ok';
  t: number;
}

export type RawFrame = BytesFrame | RegisterFrame | LinkFrame;

export function isRegisterFrame(frame: RawFrame): frame is RegisterFrame {
  return 'blocks' in frame;
}

export function isLinkFrame(frame: RawFrame): frame is LinkFrame {
  return 'link' in frame;
}

/**
 * Takes a frame. When it returns a promise, the promise resolves once the frame's events are
 * committed: a driver acknowledges the device (PUBACK, poll cycle done) only then, via
 * `Promise.resolve(sink(frame))`. (`unknown`, not `void | Promise<void>`, so any callback fits.)
 */
export type FrameSink = (frame: RawFrame) => unknown;

/** A value for a writable point, in engineering units. */
export interface Command {
  point: string;
  value: boolean | number;
}

export interface Driver {
  /** The id of the transport descriptor that made this driver (drivers/registry.ts). */
  readonly transport: string;
  /** Port of a server this driver runs for devices (the local MQTT broker), once started. */
  readonly listenPort?: number;
  /** Returns why this device cannot run on this driver, or null. Called at start-up. */
  validateDevice(device: BoundDevice): string | null;
  /** Opens sockets/buses; frames go to `sink`. Push transports (MQTT) deliver as devices report; polled ones read in batches on their schedule. */
  start(sink: FrameSink): Promise<void>;
  /** Closes everything it opened; leaves no timers or sockets behind. */
  stop(): Promise<void>;
  /** Reads these devices as soon as the bus allows (polled transports); push transports resolve at once. */
  read(deviceIds: readonly string[]): Promise<void>;
  /** Writes commands to one device, ahead of polls; rejects naming the point when impossible. */
  write(deviceId: string, commands: readonly Command[]): Promise<void>;
}
