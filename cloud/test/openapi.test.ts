// The OpenAPI document describes every route the cloud serves, with the same methods, and
// nothing it does not serve: integrators generate clients from it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, MEMORY_DATA_DIR, type Cloud } from '../src/index.ts';
import { OPENAPI } from '../src/api/openapi.ts';

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
