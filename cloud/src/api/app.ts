// REST API, health, metrics and the static console on one express app.
import { timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isIdSegment } from '@gridwatch/protocol';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { mayPublish, maySubscribe, type Identity } from '../broker/acl.ts';
import type { CloudConfig } from '../config.ts';
import { addConsumer, ConsumerError, consumerForKey, type Consumer } from '../dispatch/consumers.ts';
import { renderCap } from '../dispatch/cap.ts';
import { ackMessage, claim, deadMessages, nackMessage, releaseMessage, type SettleResult } from '../dispatch/queue.ts';
import { enrollmentRoutes } from '../enrollment/routes.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CloudMetrics } from '../metrics.ts';
import { canSee } from '../auth/scope.ts';
import { clearCookieHeader, isSessionToken, sessionCookie, setCookieHeader, type Sessions } from '../auth/session.ts';
import { ACTING_ROLES, authenticate, bumpSessionEpoch, type User } from '../auth/users.ts';
import { incidentContext, listIncidentsFor, overview, pendingDeadlines, testEvents } from '../console/queries.ts';
import { auditTrail, getIncident, type Incident } from '../incidents/incident.ts';
import { ACTIONS, applyAction, TransitionError, type Action } from '../incidents/lifecycle.ts';
import { Outcome, type EngineOptions } from '../incidents/outcome.ts';
import { CsvError } from '../routing/csv.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../routing/directory.ts';
import type { Queryable, Store } from '../store/store.ts';
import type { LatestValues } from '../telemetry/latest.ts';
import { BadRequest, optionalInt, optionalStr, requireBody, requiredStr } from './body.ts';
import { OPENAPI } from './openapi.ts';
import { parseId, parseIncidentQuery } from './query.ts';

export const CONSOLE_DIR = fileURLToPath(new URL('../console/public/', import.meta.url));
export const EMQX_SECRET_HEADER = 'x-gridwatch-emqx-secret';

export interface AppOptions {
  store: Store;
  registry: Registry;
  log: Logger;
  /** True while ingest holds a live MQTT connection (embedded or external broker). */
  brokerConnected: () => boolean;
  config: CloudConfig;
  gateways: GatewayRegistry;
  engine: EngineOptions;
  /** Post-commit side effects of an action (socket.io, MQTT per unit, queue wake-up). */
  onOutcome: (outcome: Outcome) => void;
  /** Emits 'queued' when dispatch rows were written in this process. */
  queueSignal: EventEmitter;
  /** Latest value per point, as ingest last received it. */
  latest: LatestValues;
  /** Console session tokens. */
  sessions: Sessions;
  /** After a logout: end the user's live sockets. */
  onLogout: (username: string) => void;
  /** Counters of the API's own (enrollment). */
  metrics: CloudMetrics;
  /** Where gateways connect: returned to an enrolled gateway with its credential. */
  gatewayBrokerUrl: string;
}

/** Who is calling: a console user (session cookie or Bearer session token), a dispatch consumer (Bearer API key) or nobody. */
export type Principal = { kind: 'user'; user: User } | { kind: 'consumer'; consumer: Consumer } | { kind: 'anonymous' };

const LOGIN_HINT = 'authorization: log in (POST /api/v1/auth/login) or send Bearer <consumer API key>';

const LONG_POLL_STEP_MS = 250;

function bearer(req: Request): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? (match[1] as string) : null;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function publicUser(user: User): { username: string; displayName: string; role: string; jurisdictions: string[] } {
  return { username: user.username, displayName: user.displayName, role: user.role, jurisdictions: user.jurisdictions };
}

export function createApp(options: AppOptions): express.Express {
  const { store, registry, log, brokerConnected, config, engine } = options;
  const app = express();
  app.disable('x-powered-by');
  const jsonBody = express.json({ limit: '64kb' });
  const csvBody = express.text({ type: ['text/csv', 'text/plain'], limit: '20mb' });

  const bad = (res: Response, error: string, status = 400): void => void res.status(status).json({ error });

  /** Admin endpoints: open when no adminToken is configured (embedded one-command use). */
  const admin = (req: Request, res: Response, next: NextFunction): void => {
    if (config.adminToken === null) return next();
    const token = bearer(req);
    if (token !== null && sameSecret(token, config.adminToken)) return next();
    bad(res, 'authorization: expected Bearer <admin token>', 401);
  };

  const consumerOf = async (req: Request, res: Response): Promise<Consumer | null> => {
    const key = bearer(req);
    const consumer = key ? await consumerForKey(store, key) : null;
    if (!consumer) bad(res, 'authorization: expected Bearer <consumer API key>', 401);
    return consumer;
  };

  /** Null (after answering 401) when credentials were sent but are not valid. */
  const principalOf = async (req: Request, res: Response): Promise<Principal | null> => {
    const token = bearer(req) ?? sessionCookie(req.headers.cookie);
    if (token === null) return { kind: 'anonymous' };
    if (isSessionToken(token)) {
      const user = await options.sessions.verify(token);
      if (user) return { kind: 'user', user };
      res.setHeader('set-cookie', clearCookieHeader());
      bad(res, 'session: expired or logged out; log in again', 401);
      return null;
    }
    const consumer = await consumerForKey(store, token);
    if (consumer) return { kind: 'consumer', consumer };
    bad(res, LOGIN_HINT, 401);
    return null;
  };

  /** Readers: anyone with credentials; anonymous callers only with openAccess. */
  const readerOf = async (req: Request, res: Response): Promise<Principal | null> => {
    const principal = await principalOf(req, res);
    if (principal?.kind === 'anonymous' && !config.openAccess) {
      bad(res, LOGIN_HINT, 401);
      return null;
    }
    return principal;
  };

  const visible = (principal: Principal, incident: Incident): boolean => principal.kind !== 'user' || canSee(principal.user, incident);

  app.post('/api/v1/auth/login', jsonBody, async (req, res) => {
    const body = requireBody(req.body);
    const username = requiredStr(body, 'username', { max: 64 });
    const password = requiredStr(body, 'password', { max: 1024 });
    const user = await authenticate(store, username, password);
    if (!user) {
      log.warn({ username, ip: req.ip }, 'console login refused');
      return bad(res, 'username or password: not recognised', 401);
    }
    const token = options.sessions.issue(user);
    res.setHeader('set-cookie', setCookieHeader(token, config.secureCookies));
    res.json({ user: publicUser(user), token });
  });

  app.post('/api/v1/auth/logout', async (req, res) => {
    const principal = await principalOf(req, res);
    if (!principal) return;
    if (principal.kind === 'user') {
      await bumpSessionEpoch(store, principal.user.username);
      options.onLogout(principal.user.username);
    }
    res.setHeader('set-cookie', clearCookieHeader());
    res.status(204).end();
  });

  app.get('/api/v1/auth/me', async (req, res) => {
    const principal = await principalOf(req, res);
    if (!principal) return;
    if (principal.kind !== 'user') return bad(res, 'session: not logged in', 401);
    res.json({ user: publicUser(principal.user), openAccess: config.openAccess });
  });

  app.get('/api/v1/overview', async (req, res) => {
    const principal = await readerOf(req, res);
    if (!principal) return;
    res.json(await overview(store, principal.kind === 'user' ? principal.user : null));
  });

  app.get('/api/v1/test-events', async (req, res) => {
    const principal = await readerOf(req, res);
    if (!principal) return;
    const { gatewayId, deviceId, since } = req.query;
    if (typeof gatewayId !== 'string' || !isIdSegment(gatewayId)) return bad(res, 'gatewayId: expected a gateway id');
    if (deviceId !== undefined && (typeof deviceId !== 'string' || !isIdSegment(deviceId))) return bad(res, 'deviceId: expected a device id');
    const sinceMs = since === undefined ? 0 : Number(since);
    if (!Number.isFinite(sinceMs) || sinceMs < 0) return bad(res, 'since: expected epoch milliseconds');
    const events = await testEvents(store, { gatewayId, ...(typeof deviceId === 'string' ? { deviceId } : {}), since: sinceMs });
    res.json({ testEvents: events.filter((e) => principal.kind !== 'user' || canSee(principal.user, e)) });
  });

  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(OPENAPI);
  });

  app.get('/api/v1/incidents', async (req, res) => {
    const principal = await readerOf(req, res);
    if (!principal) return;
    const { deadlines, ...raw } = req.query as Record<string, unknown>;
    const query = parseIncidentQuery(raw);
    if (!query.ok) return bad(res, query.error);
    const incidents = await listIncidentsFor(store, principal.kind === 'user' ? principal.user : null, query.value);
    if (deadlines !== 'pending') return res.json({ incidents });
    // The board's "time left": pending deadlines of each incident, in one query.
    const pending = await pendingDeadlines(store, incidents.map((i) => i.id));
    res.json({ incidents: incidents.map((i) => ({ ...i, deadlines: pending.get(i.id) ?? [] })) });
  });

  /** Resolves the incident the caller may see; answers 404 for others (their existence is not revealed). */
  const withIncident = (handler: (incident: Incident, principal: Principal, req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    const id = parseId(String(req.params.id));
    if (!id.ok) return bad(res, id.error);
    const principal = await readerOf(req, res);
    if (!principal) return;
    const incident = await getIncident(store, id.value);
    if (!incident || !visible(principal, incident)) return bad(res, `id: incident ${id.value} not found`, 404);
    await handler(incident, principal, req, res);
  };

  app.get(
    '/api/v1/incidents/:id',
    withIncident(async (incident, _principal, _req, res) => {
      res.json(incident);
    }),
  );

  app.get(
    '/api/v1/incidents/:id/audit',
    withIncident(async (incident, _principal, _req, res) => {
      res.json({ audit: await auditTrail(store, incident.id) });
    }),
  );

  app.get(
    '/api/v1/incidents/:id/context',
    withIncident(async (incident, _principal, _req, res) => {
      const context = await incidentContext(store, incident);
      res.json({ ...context, latest: options.latest.list(incident.gatewayId, incident.deviceId) });
    }),
  );

  app.get(
    '/api/v1/incidents/:id/cap',
    withIncident(async (incident, _principal, _req, res) => {
      res.type('application/xml').send(renderCap(incident, config.capSender));
    }),
  );

  app.post(
    '/api/v1/incidents/:id/actions',
    jsonBody,
    withIncident(async ({ id }, principal, req, res) => {
      const body = requireBody(req.body);
      const action = requiredStr(body, 'action', { oneOf: ACTIONS }) as Action;
      // Anonymous actions exist only for open-access installations (the demo, the walking skeleton).
      if (principal.kind === 'anonymous' && !config.openAccess) return bad(res, LOGIN_HINT, 401);
      if (principal.kind === 'user' && !ACTING_ROLES.includes(principal.user.role)) {
        return bad(res, `role: ${principal.user.role} may not change incidents (${ACTING_ROLES.join(', ')} may)`, 403);
      }
      // A logged-in user acts as themself; consumers and open-access callers name the actor.
      const actor = principal.kind === 'user' ? principal.user.username : requiredStr(body, 'actor', { max: 128 });
      const note = optionalStr(body, 'note', { max: 2000 }) ?? '';
      const unitId = optionalStr(body, 'unitId', { max: 64 });
      const outcome = new Outcome();
      try {
        const incident = await store.transaction((tx) =>
          applyAction(
            tx,
            id,
            {
              action,
              actor,
              note,
              source: principal.kind === 'user' ? `console:${req.ip ?? 'unknown'}` : principal.kind === 'consumer' ? `consumer:${principal.consumer.id}` : `rest:${req.ip ?? 'unknown'}`,
              ...(unitId ? { unitId } : {}),
            },
            engine,
            outcome,
          ),
        );
        options.onOutcome(outcome);
        res.json(incident);
      } catch (err) {
        if (err instanceof TransitionError) return bad(res, err.message, err.kind === 'not_found' ? 404 : 409);
        throw err;
      }
    }),
  );

  app.post('/api/v1/dispatch/claim', jsonBody, async (req, res) => {
    const consumer = await consumerOf(req, res);
    if (!consumer) return;
    const body = req.body === undefined ? {} : requireBody(req.body);
    const max = optionalInt(body, 'max', 1, 100) ?? 10;
    const leaseS = optionalInt(body, 'leaseS', 1, 3600) ?? config.leaseS;
    const until = Date.now() + (optionalInt(body, 'waitMs', 0, 30_000) ?? 0);
    for (;;) {
      const messages = await claim(store, consumer.id, max, leaseS);
      if (messages.length > 0 || Date.now() >= until || res.destroyed || req.socket.destroyed) {
        if (!res.destroyed) res.json({ messages });
        return;
      }
      // Long-poll: wake on this process's enqueue at once; other replicas' rows and expired leases
      // are found by the next step.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          options.queueSignal.off('queued', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(LONG_POLL_STEP_MS, Math.max(1, until - Date.now())));
        options.queueSignal.on('queued', done);
      });
    }
  });

  const settleRoute = (name: 'ack' | 'nack' | 'release'): void => {
    app.post(`/api/v1/dispatch/messages/:id/${name}`, jsonBody, async (req, res) => {
      const consumer = await consumerOf(req, res);
      if (!consumer) return;
      const id = parseId(String(req.params.id));
      if (!id.ok) return bad(res, id.error);
      const body = requireBody(req.body);
      const token = requiredStr(body, 'leaseToken', { max: 64 });
      const delayMs = optionalInt(body, 'delayMs', 0, 3_600_000) ?? config.webhookBackoffMs;
      const reason = optionalStr(body, 'error', { max: 1024 }) ?? 'nacked by consumer';
      let result: SettleResult;
      if (name === 'ack') result = await ackMessage(store, consumer.id, id.value, token);
      else if (name === 'release') result = await releaseMessage(store, consumer.id, id.value, token);
      else result = await nackMessage(store, consumer.id, id.value, token, delayMs, config.webhookMaxAttempts, reason);
      if (result === 'not_found') return bad(res, `id: message ${id.value} not found`, 404);
      if (result === 'lease_lost') return bad(res, 'leaseToken: not the current lease (expired and claimed again, or already settled)', 409);
      res.status(204).end();
    });
  };
  settleRoute('ack');
  settleRoute('nack');
  settleRoute('release');

  app.get('/api/v1/readings', async (req, res) => {
    const consumer = await consumerOf(req, res);
    if (!consumer) return;
    const { gatewayId, deviceId } = req.query;
    if (typeof gatewayId !== 'string' || !isIdSegment(gatewayId)) return bad(res, 'gatewayId: expected a gateway id');
    if (deviceId !== undefined && (typeof deviceId !== 'string' || !isIdSegment(deviceId))) return bad(res, 'deviceId: expected a device id');
    res.json({ readings: options.latest.list(gatewayId, deviceId) });
  });

  app.get('/api/v1/dispatch/dead-letters', async (req, res) => {
    const consumer = await consumerOf(req, res);
    if (!consumer) return;
    res.json({ messages: await deadMessages(store, consumer.id) });
  });

  app.post('/api/v1/dispatch/consumers', admin, jsonBody, async (req, res) => {
    const { id, name, units, webhookUrl } = requireBody(req.body);
    try {
      const created = await addConsumer(store, {
        id: typeof id === 'string' ? id : '',
        name: typeof name === 'string' ? name : '',
        units: Array.isArray(units) ? (units as string[]) : [],
        webhookUrl: typeof webhookUrl === 'string' ? webhookUrl : null,
      });
      res.status(201).json(created);
    } catch (err) {
      if (err instanceof ConsumerError) return bad(res, err.message);
      throw err;
    }
  });

  const importRoute = (path: string, load: (tx: Queryable, csv: string) => Promise<number>): void => {
    app.post(path, admin, csvBody, async (req, res) => {
      if (typeof req.body !== 'string' || req.body === '') return bad(res, 'body: expected CSV text (Content-Type: text/csv)');
      const csv = req.body;
      try {
        res.json({ imported: await store.transaction((tx) => load(tx, csv)) });
      } catch (err) {
        if (err instanceof CsvError) return bad(res, err.message);
        throw err;
      }
    });
  };
  importRoute('/api/v1/addresses/import', importAddressesCsv);
  importRoute('/api/v1/units/import', importUnitsCsv);
  importRoute('/api/v1/routing-rules/import', importRulesCsv);

  app.get('/api/v1/units', async (_req, res) => {
    res.json({ units: await store.query('SELECT id, name, type, tier, area FROM units ORDER BY tier, area, id') });
  });

  app.get('/api/v1/dead-letters', admin, async (_req, res) => {
    res.json({
      deadLetters: await store.query('SELECT id, received_at AS "receivedAt", topic, gateway_id AS "gatewayId", event_id AS "eventId", reason FROM dead_letters ORDER BY id DESC LIMIT 200'),
    });
  });

  // Gateway enrollment: admin issues a one-time token, the agent exchanges it for its credential.
  app.use(enrollmentRoutes({ store, gateways: options.gateways, metrics: options.metrics, log, admin, jsonBody, brokerUrl: options.gatewayBrokerUrl }));

  // EMQX HTTP authentication and authorization hooks (EMQX 5 "HTTP Server" authenticator/authorizer).
  // They answer for gateways (scrypt secrets, topic ACL of broker/acl.ts) and the ingest login.
  // Protected by a shared secret header; also bind httpHost to the network EMQX runs on.
  const emqx = (req: Request, res: Response, next: NextFunction): void => {
    if (config.emqxSecret === null) return bad(res, 'not found', 404);
    const given = req.headers[EMQX_SECRET_HEADER];
    if (typeof given === 'string' && sameSecret(given, config.emqxSecret)) return next();
    bad(res, `${EMQX_SECRET_HEADER}: missing or wrong`, 401);
  };

  const identityOf = async (username: string): Promise<Identity | null> => {
    if (config.ingestUsername !== null && username === config.ingestUsername) return { kind: 'service', name: 'ingest' };
    const gateway = await options.gateways.lookup(username);
    return gateway ? { kind: 'gateway', ...gateway } : null;
  };

  app.post('/api/v1/emqx/auth', emqx, jsonBody, async (req, res) => {
    const body = requireBody(req.body);
    const user = requiredStr(body, 'username', { max: 128 });
    const password = requiredStr(body, 'password', { max: 1024 });
    const clientid = optionalStr(body, 'clientid', { max: 256 });
    let allow: boolean;
    if (config.ingestUsername !== null && user === config.ingestUsername) {
      allow = config.ingestPassword !== null && sameSecret(password, config.ingestPassword);
    } else {
      allow = (await options.gateways.verify(user, password)) !== null;
    }
    if (!allow) log.warn({ username: user, clientid, peerhost: body.peerhost }, 'emqx auth denied');
    res.json({ result: allow ? 'allow' : 'deny', is_superuser: false });
  });

  app.post('/api/v1/emqx/acl', emqx, jsonBody, async (req, res) => {
    const body = requireBody(req.body);
    const username = requiredStr(body, 'username', { max: 128 });
    const topic = requiredStr(body, 'topic', { max: 1024 });
    const action = requiredStr(body, 'action', { oneOf: ['publish', 'subscribe'] });
    const identity = await identityOf(username);
    const allowed = identity !== null && (action === 'publish' ? mayPublish(identity, topic) : maySubscribe(identity, topic));
    if (!allowed) log.warn({ username, topic, action }, 'emqx acl denied');
    res.json({ result: allowed ? 'allow' : 'deny' });
  });

  app.get('/healthz', async (_req, res) => {
    const db = await store.query('SELECT 1').then(
      () => 'ok',
      (err: unknown) => {
        log.warn({ err }, 'health check: database unreachable');
        return 'down';
      },
    );
    const broker = brokerConnected() ? 'ok' : 'down';
    const healthy = db === 'ok' && broker === 'ok';
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'ok' : 'degraded', db, broker });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.use(express.static(CONSOLE_DIR));

  app.use('/api', (_req, res) => {
    bad(res, 'path: not found', 404);
  });

  // Express 5 forwards rejected handler promises here: the one place API errors are logged.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      if (!res.headersSent) bad(res, err.message);
      return;
    }
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (status >= 400 && status < 500) {
      // body-parser: malformed JSON (400) or an oversize body (413).
      if (!res.headersSent) res.status(status).json({ error: status === 413 ? 'body: too large' : 'body: not valid JSON' });
      return;
    }
    log.error({ err, method: req.method, url: req.originalUrl }, 'api request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });

  return app;
}
