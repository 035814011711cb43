// REST API, health, metrics and the static console on one express app.
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { getIncident, listIncidents } from '../incidents/incident.ts';
import type { Store } from '../store/store.ts';
import { parseId, parseIncidentQuery } from './query.ts';

export const CONSOLE_DIR = fileURLToPath(new URL('../console/public/', import.meta.url));

export interface AppOptions {
  store: Store;
  registry: Registry;
  log: Logger;
  /** True while ingest holds a live MQTT connection (embedded or external broker). */
  brokerConnected: () => boolean;
}

export function createApp({ store, registry, log, brokerConnected }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/api/v1/incidents', async (req, res) => {
    const query = parseIncidentQuery(req.query as Record<string, unknown>);
    if (!query.ok) {
      res.status(400).json({ error: query.error });
      return;
    }
    res.json({ incidents: await listIncidents(store, query.value) });
  });

  app.get('/api/v1/incidents/:id', async (req, res) => {
    const id = parseId(req.params.id);
    if (!id.ok) {
      res.status(400).json({ error: id.error });
      return;
    }
    const incident = await getIncident(store, id.value);
    if (!incident) {
      res.status(404).json({ error: `incident ${id.value} not found` });
      return;
    }
    res.json(incident);
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
    res.status(404).json({ error: 'not found' });
  });

  // Express 5 forwards rejected handler promises here: the one place API errors are logged.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, method: req.method, url: req.originalUrl }, 'api request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });

  return app;
}
