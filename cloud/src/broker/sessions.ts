// Open gateway sessions of one broker and the secret version each authenticated with. A change
// notification re-reads the gateway's row; a session whose version is older, or whose gateway is
// no longer active, is closed at once (the credential it proved is revoked).
import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { GatewayLogin, GatewayRegistry } from '../gateways/registry.ts';
import type { BrokerSecurityMetrics } from './security-metrics.ts';

interface Session {
  client: Client;
  secretVersion: number;
}

export class GatewaySessions {
  private readonly byGateway = new Map<string, Session>();

  constructor(
    private readonly registry: GatewayRegistry,
    private readonly metrics: BrokerSecurityMetrics,
    private readonly log: Logger,
  ) {}

  /** Records the session; returns true when it takes over a live one (counted). */
  opened(client: Client, login: GatewayLogin): boolean {
    const previous = this.byGateway.get(login.gatewayId);
    this.byGateway.set(login.gatewayId, { client, secretVersion: login.secretVersion });
    const takeover = previous !== undefined && previous.client !== client && !previous.client.closed;
    if (takeover) {
      this.metrics.takeovers.inc();
      this.log.warn({ gatewayId: login.gatewayId }, 'gateway session taken over by a new connection with the current credential');
    }
    return takeover;
  }

  closed(client: Client, gatewayId: string): void {
    if (this.byGateway.get(gatewayId)?.client === client) this.byGateway.delete(gatewayId);
  }

  get size(): number {
    return this.byGateway.size;
  }

  async recheck(gatewayId: string): Promise<void> {
    const session = this.byGateway.get(gatewayId);
    if (!session) return;
    const state = await this.registry.sessionState(gatewayId);
    let why: string | null = null;
    if (!state || state.lifecycle === 'removed') why = 'removed';
    else if (state.lifecycle === 'disabled') why = 'disabled';
    else if (state.secretVersion !== session.secretVersion) why = 'rotated';
    if (why === null || this.byGateway.get(gatewayId) !== session) return;
    this.byGateway.delete(gatewayId);
    this.metrics.revoked.inc({ why });
    this.log.warn({ gatewayId, why }, 'gateway session closed: its credential is no longer valid');
    session.client.close();
  }

  /** After a lost notification channel: check every session. */
  async recheckAll(): Promise<void> {
    for (const gatewayId of [...this.byGateway.keys()]) await this.recheck(gatewayId);
  }
}
