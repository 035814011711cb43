// The OpenAPI 3.1 document, generated from the route declarations (routes/index.ts). Schemas that
// carry an $id become #/components/schemas/<id>; everything else is inlined. Nothing here is
// written by hand except the wording of the implied 400/401 answers.
import type { TSchema } from '@sinclair/typebox';
import type { Route, ResponseSpec } from './route.ts';
import { openApiPath } from './route.ts';
import { SECURITY, SECURITY_SCHEMES, UNAUTHORIZED } from './principal.ts';
import { ErrorBody } from './schemas.ts';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Json>>;
  components: { securitySchemes: typeof SECURITY_SCHEMES; schemas: Record<string, Json> };
}

const BAD_INPUT = 'Bad input; `error` names the field';

/** Plain JSON Schema (TypeBox's symbols dropped) with named schemas replaced by $refs. */
class SchemaWriter {
  readonly components: Record<string, Json> = {};

  write(schema: TSchema): Json {
    return this.named(JSON.parse(JSON.stringify(schema)) as Json);
  }

  private named(node: Json): Json {
    const id = node.$id;
    if (typeof id === 'string') {
      const { $id: _id, ...rest } = node;
      const body = this.walk(rest);
      const known = this.components[id];
      if (known && JSON.stringify(known) !== JSON.stringify(body)) throw new Error(`openapi: two different schemas are named ${id}`);
      this.components[id] = body;
      return { $ref: `#/components/schemas/${id}` };
    }
    return this.walk(node);
  }

  private walk(node: Json): Json {
    const literals = Array.isArray(node.anyOf) ? (node.anyOf as Json[]) : [];
    // A union of string literals reads better (and generates better clients) as an enum.
    if (literals.length > 0 && literals.every((l) => l.type === 'string' && typeof l.const === 'string' && Object.keys(l).length === 2)) {
      const { anyOf: _anyOf, ...rest } = node;
      return { ...rest, type: 'string', enum: literals.map((l) => l.const) };
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value)) out[key] = value.map((v) => (isObject(v) ? this.named(v) : v));
      else if (isObject(value)) out[key] = key === 'properties' || key === 'patternProperties' ? this.map(value) : this.named(value);
      else out[key] = value;
    }
    return out;
  }

  private map(properties: Json): Json {
    return Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, isObject(schema) ? this.named(schema) : schema]));
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parameters(writer: SchemaWriter, where: 'path' | 'query', schema: TSchema | undefined): Json[] {
  if (!schema) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries((schema.properties as Record<string, TSchema>) ?? {}).map(([name, property]) => {
    const written = writer.write(property);
    const description = written.description;
    return { name, in: where, required: where === 'path' || required.has(name), schema: written, ...(typeof description === 'string' ? { description } : {}) };
  });
}

function content(writer: SchemaWriter, response: ResponseSpec): Json {
  if (response.contentType) return { [response.contentType]: { schema: { type: 'string' } } };
  return response.schema ? { 'application/json': { schema: writer.write(response.schema) } } : {};
}

function responses<D>(writer: SchemaWriter, route: Route<D>): Json {
  const error = (description: string): Json => ({ description, content: { 'application/json': { schema: writer.write(ErrorBody) } } });
  const out: Json = {};
  for (const response of [route.ok, ...(route.also ?? [])]) {
    const body = content(writer, response);
    out[String(response.status)] = { description: response.description, ...(Object.keys(body).length > 0 ? { content: body } : {}) };
  }
  if (route.params || route.query || route.body || route.csv) out['400'] = error(BAD_INPUT);
  if (route.access !== 'public') out['401'] = error(UNAUTHORIZED[route.access]);
  for (const [status, description] of Object.entries(route.errors ?? {})) out[status] = error(description);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => Number(a) - Number(b)));
}

function requestBody<D>(writer: SchemaWriter, route: Route<D>): Json | undefined {
  if (route.csv) return { required: true, content: { 'text/csv': { schema: { type: 'string' } } } };
  if (!route.body) return undefined;
  return { required: route.bodyOptional !== true, content: { 'application/json': { schema: writer.write(route.body) } } };
}

function operation<D>(writer: SchemaWriter, route: Route<D>): Json {
  const params = [...parameters(writer, 'path', route.params), ...parameters(writer, 'query', route.query)];
  const body = requestBody(writer, route);
  const security = SECURITY[route.access];
  return {
    summary: route.summary,
    tags: [route.tag],
    ...(security ? { security } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: responses(writer, route),
  };
}

export function buildOpenApi<D>(routes: readonly Route<D>[]): OpenApiDocument {
  const writer = new SchemaWriter();
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const item = (paths[openApiPath(route.path)] ??= {});
    if (item[route.method]) throw new Error(`openapi: ${route.method.toUpperCase()} ${route.path} is declared twice`);
    item[route.method] = operation(writer, route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'GridWatch cloud API',
      version: '1.0.0',
      description: 'Incidents, lifecycle actions, CAP 1.2 alerts, the dispatch queue, address book import, gateway enrollment and EMQX auth hooks. Generated from the route declarations.',
    },
    servers: [{ url: '/' }],
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: writer.components },
  };
}
