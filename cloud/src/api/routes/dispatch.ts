// The dispatch queue for consumers: claim with a lease (long-poll), settle (ack, nack, release),
// dead letters, the latest readings of a gateway, and (admin) creating consumers.
import { Type } from '@sinclair/typebox';
import { addConsumer, ConsumerError } from '../../dispatch/consumers.ts';
import { claimWaiting } from '../../dispatch/long-poll.ts';
import { ackMessage, deadMessages, nackMessage, releaseMessage, type DispatchMessage, type SettleResult } from '../../dispatch/queue.ts';
import type { Incident } from '../../incidents/incident.ts';
import { defineRoute, type ApiDeps, type ApiRoute } from '../deps.ts';
import { badRequest, HttpError } from '../errors.ts';
import type { Principal } from '../principal.ts';
import { ConsumerSchema, IdParam, idSegment, LatestReadingSchema, MessageList, requiredText, text } from '../schemas.ts';

/** The queue stores the incident snapshot incidents/ wrote (enqueueDispatch): typed as such here. */
function withIncidents(messages: DispatchMessage[]): DispatchMessage<Incident>[] {
  return messages as DispatchMessage<Incident>[];
}

function consumerId(principal: Principal): string {
  if (principal.kind !== 'consumer') throw new HttpError(401, 'authorization: expected Bearer <consumer API key>');
  return principal.consumer.id;
}

const claim = defineRoute({
  method: 'post',
  path: '/api/v1/dispatch/claim',
  tag: 'dispatch',
  summary: 'Lease up to `max` messages; long-polls up to `waitMs` when none is ready',
  access: 'consumer',
  bodyOptional: true,
  body: Type.Object({
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    leaseS: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'Lease length; default the cloud’s leaseS' })),
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, default: 0 })),
  }),
  ok: { status: 200, description: 'Leased messages (empty when the wait ran out)', schema: MessageList },
  async handler({ body, principal, deps, req, res }) {
    const poll = { max: body.max ?? 10, leaseS: body.leaseS ?? deps.config.leaseS, waitMs: body.waitMs ?? 0, gone: () => res.destroyed || req.socket.destroyed };
    return { json: { messages: withIncidents(await claimWaiting(deps.store, deps.queueSignal, consumerId(principal), poll)) } };
  },
});

const LeaseBody = Type.Object({ leaseToken: requiredText(64) });
const NackBody = Type.Object({
  leaseToken: requiredText(64),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Redeliver after; default the webhook back-off' })),
  error: Type.Optional(text(1024)),
});

const SETTLE_ERRORS = { 404: 'No such message of this consumer', 409: 'leaseToken: not the current lease (expired and claimed again, or already settled)' } as const;

function settled(result: SettleResult, id: number): { noContent: true } {
  if (result === 'not_found') throw new HttpError(404, `id: message ${id} not found`);
  if (result === 'lease_lost') throw new HttpError(409, 'leaseToken: not the current lease (expired and claimed again, or already settled)');
  return { noContent: true };
}

const ack = defineRoute({
  method: 'post',
  path: '/api/v1/dispatch/messages/:id/ack',
  tag: 'dispatch',
  summary: 'Done with a leased message',
  access: 'consumer',
  params: IdParam,
  body: LeaseBody,
  ok: { status: 204, description: 'Acked' },
  errors: SETTLE_ERRORS,
  async handler({ params, body, principal, deps }) {
    return settled(await ackMessage(deps.store, consumerId(principal), params.id, body.leaseToken), params.id);
  },
});

const nack = defineRoute({
  method: 'post',
  path: '/api/v1/dispatch/messages/:id/nack',
  tag: 'dispatch',
  summary: 'Failed: redeliver after `delayMs` (counted; dead-lettered after the attempt limit)',
  access: 'consumer',
  params: IdParam,
  body: NackBody,
  ok: { status: 204, description: 'Requeued' },
  errors: SETTLE_ERRORS,
  async handler({ params, body, principal, deps }) {
    const { config, store } = deps;
    const result = await nackMessage(store, consumerId(principal), params.id, body.leaseToken, body.delayMs ?? config.webhookBackoffMs, config.webhookMaxAttempts, body.error ?? 'nacked by consumer');
    return settled(result, params.id);
  },
});

const release = defineRoute({
  method: 'post',
  path: '/api/v1/dispatch/messages/:id/release',
  tag: 'dispatch',
  summary: 'Give a lease back at once (not counted)',
  access: 'consumer',
  params: IdParam,
  body: LeaseBody,
  ok: { status: 204, description: 'Released' },
  errors: SETTLE_ERRORS,
  async handler({ params, body, principal, deps }) {
    return settled(await releaseMessage(deps.store, consumerId(principal), params.id, body.leaseToken), params.id);
  },
});

const deadLetters = defineRoute({
  method: 'get',
  path: '/api/v1/dispatch/dead-letters',
  tag: 'dispatch',
  summary: 'Messages given up on (webhook attempts exhausted, or nacked too often)',
  access: 'consumer',
  ok: { status: 200, description: 'Dead messages, newest first', schema: MessageList },
  async handler({ principal, deps }) {
    return { json: { messages: withIncidents(await deadMessages(deps.store, consumerId(principal))) } };
  },
});

const readings = defineRoute({
  method: 'get',
  path: '/api/v1/readings',
  tag: 'dispatch',
  summary: 'Latest value of each point of a gateway (optionally one device), as ingest last received it',
  access: 'consumer',
  query: Type.Object({ gatewayId: idSegment('gateway'), deviceId: Type.Optional(idSegment('device')) }),
  ok: { status: 200, description: 'Readings, by device then point', schema: Type.Object({ readings: Type.Array(LatestReadingSchema) }) },
  async handler({ query, deps }) {
    return { json: { readings: deps.latest.list(query.gatewayId, query.deviceId) } };
  },
});

const NewConsumer = Type.Object(
  {
    id: Type.String({ description: '1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit' }),
    name: Type.String(),
    units: Type.Array(Type.String(), { description: "Unit ids whose incidents the consumer receives; '*' = every incident" }),
    webhookUrl: Type.Optional(Type.String({ format: 'uri', description: 'Push deliveries here (signed; see docs)' })),
  },
  { $id: 'NewConsumer' },
);

async function createConsumer(deps: ApiDeps, input: { id: string; name: string; units: string[]; webhookUrl?: string }) {
  try {
    return await addConsumer(deps.store, { ...input, webhookUrl: input.webhookUrl ?? null });
  } catch (err) {
    if (err instanceof ConsumerError) throw badRequest(err.message);
    throw err;
  }
}

const consumers = defineRoute({
  method: 'post',
  path: '/api/v1/dispatch/consumers',
  tag: 'admin',
  summary: 'Create a consumer; the API key (and webhook secret) are shown once',
  access: 'admin',
  body: NewConsumer,
  ok: {
    status: 201,
    description: 'Created',
    schema: Type.Object({ consumer: ConsumerSchema, apiKey: Type.String({ description: 'Shown once' }), webhookSecret: Type.Union([Type.String(), Type.Null()], { description: 'Signs webhook deliveries; shown once' }) }),
  },
  async handler({ body, deps }) {
    return { status: 201, json: await createConsumer(deps, body) };
  },
});

export const dispatchRoutes: ApiRoute[] = [claim, ack, nack, release, deadLetters, readings, consumers];
