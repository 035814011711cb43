// Notification channels by id, built from the one list in index.ts. createSender() validates a
// channel's settings against its own schema (defaults applied) before binding them, so a typo
// fails at start-up naming the path, never at send time.
import { Value } from '@sinclair/typebox/value';
import type { NotifyChannel, NotifySender } from '../channel.ts';

export class NotifyChannelRegistry {
  private readonly byId = new Map<string, NotifyChannel>();

  constructor(channels: readonly NotifyChannel[]) {
    for (const channel of channels) {
      if (this.byId.has(channel.id)) throw new Error(`notification channel ${channel.id}: registered twice`);
      this.byId.set(channel.id, channel);
    }
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  get(id: string): NotifyChannel | undefined {
    return this.byId.get(id);
  }

  createSender(id: string, settings: unknown): NotifySender {
    const channel = this.byId.get(id);
    if (!channel) throw new Error(`channels.${id}: unknown notification channel (known: ${this.ids.join(', ')})`);
    const config: unknown = Value.Default(channel.configSchema, structuredClone(settings ?? {}));
    const first = Value.Errors(channel.configSchema, config).First();
    if (first) throw new Error(`channels.${id}${first.path}: ${first.message}`);
    return channel.create(config);
  }
}
