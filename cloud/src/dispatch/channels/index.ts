// The one list of dispatch channels. A new channel is a folder beside webhook/ exporting its
// descriptor, plus one line here (docs/ADDING-A-CHANNEL.md).
import { ChannelRegistry } from './registry.ts';
import type { ChannelDescriptor } from './types.ts';
import { webhookChannel } from './webhook/index.ts';

export const CHANNELS: readonly ChannelDescriptor[] = [
  webhookChannel,
];

export const DEFAULT_CHANNELS = new ChannelRegistry(CHANNELS);

export { ChannelRegistry } from './registry.ts';
export type { ChannelDescriptor, DeliveryContext, DeliveryMessage, DeliveryOutcome, DeliveryTarget } from './types.ts';
