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
