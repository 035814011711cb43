// Channels by id and by target scheme. Built from the one list in index.ts (tests build their own
// with a fixture channel added the same way).
import type { ChannelDescriptor } from './types.ts';

export class ChannelRegistry {
  private readonly byScheme = new Map<string, ChannelDescriptor>();
  private readonly byId = new Map<string, ChannelDescriptor>();

  constructor(channels: readonly ChannelDescriptor[]) {
    for (const channel of channels) {
      if (this.byId.has(channel.id)) throw new Error(`channel ${channel.id}: registered twice`);
      this.byId.set(channel.id, channel);
      for (const scheme of channel.schemes) {
        const taken = this.byScheme.get(scheme);
        if (taken) throw new Error(`channel ${channel.id}: scheme ${scheme} already belongs to ${taken.id}`);
        this.byScheme.set(scheme, channel);
      }
    }
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  get schemes(): string[] {
    return [...this.byScheme.keys()];
  }

  byIdOf(id: string): ChannelDescriptor | undefined {
    return this.byId.get(id);
  }

  /** The channel serving a push target URL, or undefined (unknown scheme, or not a URL). */
  forTarget(url: string): ChannelDescriptor | undefined {
    if (!URL.canParse(url)) return undefined;
    return this.byScheme.get(new URL(url).protocol.replace(/:$/, ''));
  }
}
