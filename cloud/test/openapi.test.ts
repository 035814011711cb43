// The OpenAPI document describes every route the cloud serves, with the same methods, and
// nothing it does not serve: integrators generate clients from it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { OPENAPI } from '../src/api/routes/index.ts';

let cloud: Cloud;
before(async () => {
  cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: MEMORY_DATA_DIR, logLevel: 'silent' });
});
after(() => cloud.stop());

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  /** A router mounted with app.use(router) (no prefix): its routes carry full paths. */
  handle?: { stack?: RouteLayer[] };
}

function routesOf(stack: RouteLayer[]): { path: string; methods: Record<string, boolean> }[] {
  return stack.flatMap((layer) => (layer.route ? [layer.route] : layer.handle?.stack ? routesOf(layer.handle.stack) : []));
}

test('every served route is in the OpenAPI document with its methods, and the document lists no other', async () => {
  const stack = (cloud.app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
  const served = new Map<string, Set<string>>();
  for (const route of routesOf(stack)) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const methods = served.get(path) ?? new Set<string>();
    for (const method of Object.keys(route.methods)) methods.add(method);
    served.set(path, methods);
  }
  const documented = new Map(Object.entries(OPENAPI.paths).map(([path, item]) => [path, new Set(Object.keys(item))]));
  assert.ok(served.size > 10, 'routes were found');
  for (const [path, methods] of served) {
    assert.ok(documented.has(path), `${path} is served but not in the OpenAPI document`);
    assert.deepEqual([...methods].sort(), [...documented.get(path)!].sort(), `${path}: methods differ`);
  }
  for (const path of documented.keys()) assert.ok(served.has(path), `${path} is documented but not served`);
  const body = (await (await fetch(`${cloud.httpUrl}/api/v1/openapi.json`)).json()) as { openapi: string };
  assert.equal(body.openapi, '3.1.0');
});

test('every $ref of the document resolves, and 401 answers are described as authentication failures', () => {
  const text = JSON.stringify(OPENAPI);
  const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 20);
  for (const name of new Set(refs)) assert.ok(name in OPENAPI.components.schemas, `${name} is referenced but not defined`);
  for (const [path, item] of Object.entries(OPENAPI.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const unauthorized = (operation as { responses: Record<string, { description: string }> }).responses['401'];
      if (unauthorized) assert.match(unauthorized.description, /^Authentication failed/, `${method} ${path}`);
    }
  }
  const incident = OPENAPI.components.schemas.Incident as { properties: Record<string, unknown> };
  for (const field of ['community', 'street', 'grid', 'district', 'reason', 'acknowledgedAt', 'resolvedAt', 'onSiteAt', 'closedAt']) assert.ok(field in incident.properties, field);
  const action = OPENAPI.components.schemas.ActionRequest as { required: string[] };
  assert.deepEqual(action.required, ['action'], 'session users never send actor');
});
