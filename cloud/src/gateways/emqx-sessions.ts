// Closes EMQX's open sessions of a revoked gateway credential (issue 11). The auth hook refuses the
// old secret at the next CONNECT, but EMQX keeps an already authenticated connection open; its
// management REST API kicks it: EMQX 5 `DELETE /api/v5/clients/{clientid}` with HTTP Basic auth of
// an API key and secret key (docs.emqx.com, "REST API": paths start with /api/v5, API key and
// secret key as Basic username/password, 204 on success, 404 when no such client).
//
// Every replica hears every change notification (change-feed.ts), so every replica kicks: the
// first DELETE closes the session, the others get 404. Any change (rotate, re-enrollment, disable,
// remove, and also enable or add) kicks, since the feed does not say which; a kick of a gateway
// that is not connected is a 404, and a gateway with a valid secret just reconnects.
import type { Logger } from 'pino';
import type { GatewayChangeFeed } from './change-feed.ts';

export interface EmqxApiOptions {
  /** Base URL of EMQX's management API, e.g. http://emqx:18083 (the /api/v5 prefix is added). */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Per request; a slow EMQX must not hold revocations up. */
  timeoutMs?: number;
}

export type KickResult = 'kicked' | 'absent' | 'failed';

export class EmqxSessionKicker {
  private readonly onChange = (gatewayId: string): void => void this.kick(gatewayId);
  private readonly authorization: string;

  constructor(
    private readonly api: EmqxApiOptions,
    private readonly changes: GatewayChangeFeed,
    private readonly log: Logger,
  ) {
    // RFC 7617 Basic: base64 of "user-id:password"; EMQX's user-id is the API key.
    this.authorization = `Basic ${Buffer.from(`${api.apiKey}:${api.apiSecret}`, 'utf8').toString('base64')}`;
  }

  start(): void {
    this.changes.on('change', this.onChange);
  }

  stop(): void {
    this.changes.off('change', this.onChange);
  }

  /** Kicks the gateway's session (its client id is its gateway id: identity binding, broker/acl.ts). */
  async kick(gatewayId: string): Promise<KickResult> {
    const url = `${this.api.url.replace(/\/+$/, '')}/api/v5/clients/${encodeURIComponent(gatewayId)}`;
    try {
      const res = await fetch(url, {
        method: 'DELETE',
        headers: { authorization: this.authorization, accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.api.timeoutMs ?? 5000),
      });
      await res.arrayBuffer();
      if (res.status === 204) {
        this.log.warn({ gatewayId }, 'emqx session closed after a gateway change');
        return 'kicked';
      }
      if (res.status === 404) return 'absent';
      this.log.error({ gatewayId, status: res.status }, 'emqx refused to close the gateway session (check the API key and its role)');
      return 'failed';
    } catch (err) {
      this.log.error({ gatewayId, err }, 'emqx management API unreachable: the gateway session was not closed');
      return 'failed';
    }
  }
}
