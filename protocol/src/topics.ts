// Topic layout of the wire contract: gw/{site}/{gatewayId}/{kind}. Edge publishes events,
// telemetry and status; the cloud publishes ack and config.
import type { MessageKind } from './messages.ts';

export const TOPIC_ROOT = 'gw';
export const UPLINK_KINDS = ['events', 'telemetry', 'status'] as const satisfies readonly MessageKind[];
export const DOWNLINK_KINDS = ['ack', 'config'] as const satisfies readonly MessageKind[];
export type UplinkKind = (typeof UPLINK_KINDS)[number];
export type DownlinkKind = (typeof DOWNLINK_KINDS)[number];

export interface GatewayAddress {
  site: string;
  gatewayId: string;
}

export interface ParsedTopic extends GatewayAddress {
  kind: MessageKind;
}

const KINDS = new Set<string>([...UPLINK_KINDS, ...DOWNLINK_KINDS]);
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function topicFor(address: GatewayAddress, kind: MessageKind): string {
  return `${TOPIC_ROOT}/${address.site}/${address.gatewayId}/${kind}`;
}

/** The prefix a gateway owns; its ACL is expressed against it. */
export function gatewayPrefix(address: GatewayAddress): string {
  return `${TOPIC_ROOT}/${address.site}/${address.gatewayId}/`;
}

/** Subscription filter for one kind across all gateways (ingest side). */
export function filterForAll(kind: MessageKind): string {
  return `${TOPIC_ROOT}/+/+/${kind}`;
}

/** Returns null for a topic outside the contract (wrong root, bad segment, unknown kind). */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_ROOT) return null;
  const [, site, gatewayId, kind] = parts as [string, string, string, string];
  if (!SEGMENT.test(site) || !SEGMENT.test(gatewayId) || !KINDS.has(kind)) return null;
  return { site, gatewayId, kind: kind as MessageKind };
}

export function isIdSegment(value: string): boolean {
  return SEGMENT.test(value);
}
