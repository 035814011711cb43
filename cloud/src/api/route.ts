// One declaration per route: method, path, access, TypeBox schemas of params, query, body and
// responses, and the handler. From it come the request validation (here), the OpenAPI document
// (openapi.ts) and the handler's TypeScript types (Static of the schemas).
import type { Static, TSchema } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Principal, Access } from './principal.ts';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 503;

export interface ResponseSpec<R extends TSchema = TSchema> {
  status: 200 | 201 | 204 | 503;
  description: string;
  /** JSON schema of the body; omitted for 204 and for text bodies. */
  schema?: R;
  /** Content type of a non-JSON body (CAP XML, Prometheus text). */
  contentType?: string;
}

export interface Ctx<P, Q, B, D> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  deps: D;
  req: Request;
  res: Response;
}

export type Reply<T> =
  | { json: T; status?: number; headers?: Record<string, string> }
  | { text: string; type: string; status?: number }
  | { noContent: true; headers?: Record<string, string> };

export interface RouteSpec<D, P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema> {
  method: 'get' | 'post';
  /** Express form (`:id`); the OpenAPI form (`{id}`) is derived. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  /** JSON body schema; `csv` for text/csv bodies. */
  body?: B;
  csv?: boolean;
  /** A JSON body that may be left out entirely (treated as `{}`). */
  bodyOptional?: boolean;
  ok: ResponseSpec<R>;
  /** Other documented successes with the same shape (e.g. 503 Degraded of /healthz). */
  also?: ResponseSpec[];
  /** Error statuses besides the ones implied by access (401) and validation (400). */
  errors?: Partial<Record<ErrorStatus, string>>;
  /** Called when the request fails validation (e.g. to count refused enrollments). */
  onInvalid?(deps: D): void;
  handler(ctx: Ctx<Static<P>, Static<Q>, Static<B>, D>): Promise<Reply<Static<R>>>;
}

/** A declared route with its types erased, as the registry, the app and the OpenAPI builder see it. */
export type Route<D> = RouteSpec<D, TSchema, TSchema, TSchema, TSchema>;

/** `routesFor<Deps>()` gives the declaring function: the schemas' types are inferred per route, Deps fixed. */
export function routesFor<D>(): <P extends TSchema = TSchema, Q extends TSchema = TSchema, B extends TSchema = TSchema, R extends TSchema = TSchema>(
  spec: RouteSpec<D, P, Q, B, R>,
) => Route<D> {
  return (spec) => spec as unknown as Route<D>;
}

export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}
