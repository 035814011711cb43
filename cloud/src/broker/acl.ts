// Topic ACL of the wire contract: a gateway publishes only its own uplink topics and reads only its
// own downlink topics (ARCHITECTURE.md, "A gateway may publish only under its own prefix…").
// Exact topics, never wildcards, so a subscription cannot reach across gateways.
import { DOWNLINK_KINDS, UPLINK_KINDS, topicFor } from '@gridwatch/protocol';

export type Identity =
  | { kind: 'gateway'; gatewayId: string; site: string }
  /** The cloud's own ingest client: full rights on the broker. */
  | { kind: 'service'; name: string };

export function mayPublish(identity: Identity, topic: string): boolean {
  if (identity.kind === 'service') return true;
  return UPLINK_KINDS.some((kind) => topicFor(identity, kind) === topic);
}

export function maySubscribe(identity: Identity, filter: string): boolean {
  if (identity.kind === 'service') return true;
  return DOWNLINK_KINDS.some((kind) => topicFor(identity, kind) === filter);
}

/** Client ids of the cloud's own ingest clients start with this (`gridwatch-ingest-<role>-<random>`). */
export const SERVICE_CLIENT_PREFIX = 'gridwatch-ingest-';

/**
 * Identity binding, one rule for every broker (embedded, EMQX hook, Mosquitto dynsec): a gateway's
 * MQTT client id is exactly its gateway id, so no credential can take over another's session; the
 * service's client ids carry SERVICE_CLIENT_PREFIX.
 */
export function clientIdAllowed(kind: Identity['kind'], username: string, clientId: string | undefined): boolean {
  if (clientId === undefined) return false;
  return kind === 'service' ? clientId.startsWith(SERVICE_CLIENT_PREFIX) : clientId === username;
}
