// The profile halves of the transports, registered in one list. The loader, the lint test and the
// edge's decoder look a profile's transport up here; nothing else names a transport. A transport
// that lives outside this package (the edge's test fixture) registers its piece at run time.
import type { Static } from '@sinclair/typebox';
import { modbusProfileTransport } from './modbus.ts';
import { mqttProfileTransport } from './mqtt.ts';
import { serialProfileTransport } from './serial.ts';
import type { ProfileTransport } from './types.ts';

export * from './types.ts';
export * from './mqtt.ts';
export * from './modbus.ts';
export * from './serial.ts';

/** The transports whose profiles ship with this package. Adding one: its file here, plus this line. */
export const BUILTIN_PROFILE_TRANSPORTS = [mqttProfileTransport, modbusProfileTransport, serialProfileTransport] as const;

export type Profile = Static<(typeof BUILTIN_PROFILE_TRANSPORTS)[number]['schema']>;
export type Point = Profile['points'][number];
export type Transport = Profile['transport'];

const registered = new Map<string, ProfileTransport>(BUILTIN_PROFILE_TRANSPORTS.map((piece) => [piece.id, piece as ProfileTransport]));

/**
 * Makes a transport's profile piece known to the loader and the decoder. Registering the same piece
 * again is a no-op; another piece under a taken id is refused. Returns the undo (for tests).
 */
export function registerProfileTransport(piece: ProfileTransport): () => void {
  const existing = registered.get(piece.id);
  if (existing === piece) return () => undefined;
  if (existing) throw new Error(`profile transport ${piece.id} is already registered`);
  registered.set(piece.id, piece);
  return () => {
    if (registered.get(piece.id) === piece) registered.delete(piece.id);
  };
}

export function profileTransport(id: string): ProfileTransport | undefined {
  return registered.get(id);
}

export function profileTransportIds(): string[] {
  return [...registered.keys()];
}

/** The profile piece of a loaded profile (always registered: the loader refused any other). */
export function transportOf(profile: { transport: string }): ProfileTransport {
  const piece = registered.get(profile.transport);
  if (!piece) throw new Error(`no profile transport ${profile.transport} is registered`);
  return piece;
}
