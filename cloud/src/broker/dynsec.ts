// Mosquitto as a first-class broker: the cloud keeps Mosquitto's dynamic-security plugin in step
// with the gateways table over its control topic ($CONTROL/dynamic-security/v1). Each gateway is a
// dynsec client whose username is the gateway id, whose client id is pinned to the gateway id
// (identity binding) and whose one role allows exactly the topics of broker/acl.ts. Secrets reach
// Mosquitto only in plain text, so the sync hears them from the registry when this process sets
// them (enrollment, rotation, add) and pushes them once the row's secret version shows the change
// committed; disable, enable and remove follow the change feed from any replica. A dynsec change
// of a client disconnects its open sessions, so revocation is prompt here too.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { DOWNLINK_KINDS, UPLINK_KINDS, topicFor } from '@gridwatch/protocol';
import type { GatewayChangeFeed } from '../gateways/change-feed.ts';
import type { GatewayRegistry, SecretSet } from '../gateways/registry.ts';
import { SERVICE_CLIENT_PREFIX } from './acl.ts';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
const COMMAND_TIMEOUT_MS = 10_000;
export const INGEST_ROLE = 'gridwatch-ingest';

type Acl = { acltype: string; topic: string; allow: boolean; priority?: number };
type DynsecCommand = Record<string, unknown> & { command: string };
interface DynsecResponse {
  command: string;
  error?: string;
  correlationData?: string;
}

export interface DynsecOptions {
  brokerUrl: string;
  username: string;
  password: string;
  registry: GatewayRegistry;
  changes: GatewayChangeFeed | null;
  log: Logger;
  ca?: string | Buffer;
}

export function gatewayRole(gatewayId: string): string {
  return `gw:${gatewayId}`;
}

/** The role of one gateway: the same topics as mayPublish/maySubscribe (broker/acl.ts). */
export function gatewayAcls(gateway: { gatewayId: string; site: string }): Acl[] {
  const up = UPLINK_KINDS.map((kind) => ({ acltype: 'publishClientSend', topic: topicFor(gateway, kind), allow: true }));
  const down = DOWNLINK_KINDS.flatMap((kind) => [
    { acltype: 'subscribeLiteral', topic: topicFor(gateway, kind), allow: true },
    { acltype: 'publishClientReceive', topic: topicFor(gateway, kind), allow: true },
  ]);
  return [...up, ...down];
}

const INGEST_ACLS: Acl[] = ['publishClientSend', 'publishClientReceive', 'subscribePattern', 'unsubscribePattern'].map((acltype) => ({ acltype, topic: '#', allow: true }));

/** Not-found and already-exists answers are the expected outcome of an idempotent sync. */
function benign(error: string | undefined): boolean {
  return error === undefined || /not found|already exists/i.test(error);
}

export class DynsecSync {
  private client: MqttClient | null = null;
  private readonly waiting = new Map<string, (responses: DynsecResponse[]) => void>();
  private readonly pending = new Map<string, SecretSet>();
  private queue: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private readonly onChange = (gatewayId: string): void => void this.reconcile(gatewayId).catch((err: unknown) => this.options.log.error({ err, gatewayId }, 'dynsec sync failed'));

  constructor(private readonly options: DynsecOptions) {}

  async start(): Promise<void> {
    const { brokerUrl, username, password, ca } = this.options;
    const client = await mqtt.connectAsync(brokerUrl, { username, password, clientId: `gridwatch-dynsec-${randomBytes(6).toString('hex')}`, reconnectPeriod: 1000, ...(ca ? { ca } : {}) });
    client.on('message', (topic, payload) => this.onResponse(topic, payload));
    await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    this.client = client;
    // Kept until the change notification shows the row committed with this version (the secret
    // may be set inside a transaction, e.g. enrollment's, that could still roll back).
    this.unsubscribe = this.options.registry.onSecret((set) => this.pending.set(set.gatewayId, set));
    this.options.changes?.on('change', this.onChange);
  }

  async stop(): Promise<void> {
    this.options.changes?.off('change', this.onChange);
    this.unsubscribe?.();
    const client = this.client;
    this.client = null;
    await this.queue.catch(() => undefined);
    await client?.endAsync();
  }

  /** Default deny, and the ingest login (its client ids carry SERVICE_CLIENT_PREFIX). */
  async bootstrap(ingest: { username: string; password: string } | null): Promise<void> {
    await this.run([
      {
        command: 'setDefaultACLAccess',
        acls: [
          { acltype: 'publishClientSend', allow: false },
          { acltype: 'publishClientReceive', allow: false },
          { acltype: 'subscribe', allow: false },
          { acltype: 'unsubscribe', allow: true },
        ],
      },
      { command: 'createRole', rolename: INGEST_ROLE, acls: INGEST_ACLS },
    ]);
    if (ingest) {
      await this.run([
        { command: 'createClient', username: ingest.username, password: ingest.password, roles: [{ rolename: INGEST_ROLE }] },
        { command: 'setClientPassword', username: ingest.username, password: ingest.password },
      ]);
    }
    this.options.log.info({ ingest: ingest?.username, clientIdPrefix: SERVICE_CLIENT_PREFIX }, 'mosquitto dynamic security bootstrapped');
  }

  /** Brings one gateway's dynsec client in line with its row (and a pending secret of this process). */
  async reconcile(gatewayId: string): Promise<void> {
    const state = await this.options.registry.sessionState(gatewayId);
    if (!state || state.lifecycle === 'removed') {
      this.pending.delete(gatewayId);
      await this.run([{ command: 'deleteClient', username: gatewayId }, { command: 'deleteRole', rolename: gatewayRole(gatewayId) }]);
      return;
    }
    const secret = this.pending.get(gatewayId);
    if (secret && secret.secretVersion === state.secretVersion) {
      this.pending.delete(gatewayId);
      await this.putGateway({ gatewayId, site: state.site, secret: secret.secret });
    }
    await this.run([{ command: state.lifecycle === 'disabled' ? 'disableClient' : 'enableClient', username: gatewayId }]);
  }

  private async putGateway(gateway: { gatewayId: string; site: string; secret: string }): Promise<void> {
    const rolename = gatewayRole(gateway.gatewayId);
    const username = gateway.gatewayId;
    // The role's topics follow from (site, id), and a gateway never changes site: created once.
    // (Deleting and re-creating a role held by a connected client crashed Mosquitto 2.0.11.)
    await this.run([{ command: 'createRole', rolename, acls: gatewayAcls(gateway) }]);
    const [created] = await this.run([{ command: 'createClient', username, password: gateway.secret, clientid: gateway.gatewayId, roles: [{ rolename }] }]);
    // An existing client gets the new secret, which disconnects its open sessions.
    if (created?.error !== undefined) await this.run([{ command: 'setClientPassword', username, password: gateway.secret }]);
    this.options.log.info({ gatewayId: gateway.gatewayId }, 'gateway credential set in mosquitto');
  }

  /** Commands run one batch at a time; a failure other than not-found/exists is thrown. */
  private run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const next = this.queue.then(() => this.send(commands));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = this.client;
    if (!client) throw new Error('dynsec: not connected');
    const correlation = randomBytes(8).toString('hex');
    const tagged = commands.map((c, i) => ({ ...c, correlationData: `${correlation}:${i}` }));
    const answered = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlation);
        reject(new Error(`dynsec: no answer to ${commands.map((c) => c.command).join(', ')} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(correlation, (responses) => {
        clearTimeout(timer);
        resolve(responses);
      });
    });
    await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    const responses = await answered;
    const failed = responses.filter((r) => !benign(r.error));
    if (failed.length > 0) throw new Error(`dynsec: ${failed.map((r) => `${r.command}: ${r.error}`).join('; ')}`);
    return responses;
  }

  private onResponse(topic: string, payload: Buffer): void {
    if (topic !== RESPONSE_TOPIC) return;
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
    } catch {
      this.options.log.warn('dynsec: unreadable response');
      return;
    }
    const correlation = responses[0]?.correlationData?.split(':')[0];
    const waiter = correlation ? this.waiting.get(correlation) : undefined;
    if (!correlation || !waiter) return;
    this.waiting.delete(correlation);
    waiter(responses);
  }
}

/**
 * For one-shot CLI commands (`gateway add|rotate|disable|…`) when the cloud manages Mosquitto: a
 * sync that hears the command's secret and pushes the gateway once the command is done. Null when
 * no dynamic-security login is configured.
 */
export async function startCliDynsec(
  config: { brokerUrl: string | null; dynsecUsername: string | null; dynsecPassword: string | null },
  registry: GatewayRegistry,
  log: Logger,
): Promise<DynsecSync | null> {
  if (config.brokerUrl === null || config.dynsecUsername === null || config.dynsecPassword === null) return null;
  const sync = new DynsecSync({ brokerUrl: config.brokerUrl, username: config.dynsecUsername, password: config.dynsecPassword, registry, changes: null, log });
  await sync.start();
  return sync;
}
