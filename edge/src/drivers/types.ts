// The shape every transport driver shares (after node-wot's bindings and EdgeX's ProtocolDriver).
// Drivers return raw frames; decoding belongs to the profile pipeline, never to a driver.
import type { BoundDevice } from '../config.ts';

/** What a driver hands to the pipeline: the device's raw report as received. */
export interface RawFrame {
  deviceId: string;
  payload: Buffer;
  /** Receive time, epoch ms. */
  t: number;
}

export type FrameSink = (frame: RawFrame) => void;

export interface Driver {
  readonly transport: 'mqtt' | 'modbus' | 'serial';
  /** Returns why this device cannot run on this driver, or null. Called at start-up. */
  validateDevice(device: BoundDevice): string | null;
  /** Opens sockets/buses; frames go to `sink`. Push transports (MQTT) deliver as devices report; polled ones read in batches on their schedule. */
  start(sink: FrameSink): Promise<void>;
  /** Closes everything it opened; leaves no timers or sockets behind. */
  stop(): Promise<void>;
}
