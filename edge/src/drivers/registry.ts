// The one list of transports. Config validation, device binding, the agent, the decoder and the
// installer CLI iterate it; nothing outside `drivers/` names a transport. Adding a transport is a
// new `drivers/<id>/` folder exporting a descriptor, plus its line below (docs/ADDING-A-TRANSPORT.md).
import { registerProfileTransport } from '@gridwatch/firmware-profiles';
import type { AnyTransportDescriptor } from './descriptor.ts';
import { modbusTransport } from './modbus/descriptor.ts';
import { mqttTransport } from './mqtt/descriptor.ts';
import { serialTransport } from './serial/descriptor.ts';

export const BUILTIN_TRANSPORTS = [mqttTransport, modbusTransport, serialTransport] as const;

const transports = new Map<string, AnyTransportDescriptor>();
let version = 0;

/**
 * Registers a transport and its profile half (so profiles of it load). Refuses a taken id or a bus
 * kind another transport declares. Returns the undo, for tests that register a fixture transport.
 */
export function registerTransport(descriptor: AnyTransportDescriptor): () => void {
  if (transports.has(descriptor.id)) throw new Error(`transport ${descriptor.id} is already registered`);
  for (const kind of Object.keys(descriptor.buses)) {
    const owner = [...transports.values()].find((t) => Object.hasOwn(t.buses, kind));
    if (owner) throw new Error(`bus kind ${kind} of transport ${descriptor.id} is already declared by ${owner.id}`);
  }
  const unregisterProfile = registerProfileTransport(descriptor.profile);
  transports.set(descriptor.id, descriptor);
  version++;
  return () => {
    if (transports.get(descriptor.id) !== descriptor) return;
    transports.delete(descriptor.id);
    unregisterProfile();
    version++;
  };
}

for (const descriptor of BUILTIN_TRANSPORTS) registerTransport(descriptor as unknown as AnyTransportDescriptor);

export function listTransports(): AnyTransportDescriptor[] {
  return [...transports.values()];
}

export function getTransport(id: string): AnyTransportDescriptor | undefined {
  return transports.get(id);
}

/** The transport that declares this bus kind (`rtu` → modbus). */
export function transportOfBusKind(kind: string): AnyTransportDescriptor | undefined {
  return [...transports.values()].find((t) => Object.hasOwn(t.buses, kind));
}

/** Changes whenever a transport is registered or removed, so schemas built from the list can be cached. */
export function registryVersion(): number {
  return version;
}
