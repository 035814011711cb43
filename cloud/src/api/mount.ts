// Turns route declarations into express handlers: access check (principal.ts) → body parser →
// validation of params, query and body (validate.ts) → the handler → its reply.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { HttpError } from './errors.ts';
import { accessMiddleware, principalFrom, type AccessDeps } from './principal.ts';
import type { Reply, Route } from './route.ts';
import { Validator } from './validate.ts';

const jsonBody = express.json({ limit: '64kb' });
const csvBody = express.text({ type: ['text/csv', 'text/plain'], limit: '20mb' });

function send(res: Response, reply: Reply<unknown>): void {
  if ('noContent' in reply) {
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.status(204).end();
  } else if ('text' in reply) {
    res.status(reply.status ?? 200).type(reply.type).send(reply.text);
  } else {
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.status(reply.status ?? 200).json(reply.json);
  }
}

function validated<D>(route: Route<D>, deps: D): RequestHandler {
  const params = route.params ? new Validator(route.params, 'params') : null;
  const query = route.query ? new Validator(route.query, 'query') : null;
  const body = route.body ? new Validator(route.body, 'body') : null;
  return async (req: Request, res: Response) => {
    let input: { params: unknown; query: unknown; body: unknown };
    try {
      input = {
        params: params ? params.strings(req.params as Record<string, unknown>) : {},
        query: query ? query.strings(req.query as Record<string, unknown>) : {},
        body: body ? body.body(req.body === undefined && route.bodyOptional ? {} : req.body) : req.body,
      };
    } catch (err) {
      if (err instanceof HttpError) route.onInvalid?.(deps);
      throw err;
    }
    const reply = await route.handler({ ...input, principal: principalFrom(res), deps, req, res });
    if (!res.destroyed && !res.headersSent) send(res, reply);
  };
}

/** Mounts each route with its access check, body parser and validation. */
export function mountRoutes<D extends AccessDeps>(router: express.Router, routes: readonly Route<D>[], deps: D): void {
  for (const route of routes) {
    const parser: RequestHandler[] = route.csv ? [csvBody] : route.body ? [jsonBody] : [];
    router[route.method](route.path, accessMiddleware(route.access, deps), ...parser, validated(route, deps));
  }
}

/** The API's error answer: HttpError as declared, body-parser failures as 400/413, the rest 500 (logged once). */
export function errorHandler(log: { error: (obj: object, msg: string) => void }): (err: unknown, req: Request, res: Response, next: NextFunction) => void {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      res.status(err.status).json({ error: err.message });
      return;
    }
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (status >= 400 && status < 500) {
      // body-parser: malformed JSON (400) or an oversize body (413).
      res.status(status).json({ error: status === 413 ? 'body: too large' : 'body: not valid JSON' });
      return;
    }
    log.error({ err, method: req.method, url: req.originalUrl }, 'api request failed');
    res.status(500).json({ error: 'internal error' });
  };
}
