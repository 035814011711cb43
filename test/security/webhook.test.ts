// Attack: a webhook receiver that redirects the signed delivery elsewhere (SSRF into the internal
// network) or answers with an endless body (memory). The delivery follows no redirect (the other
// server is never reached) and reads at most a bounded answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { pino } from 'pino';
import { webhookChannel } from '../../cloud/src/dispatch/channels/webhook/index.ts';
import { Tally } from './support.ts';

function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}/hook`, close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))) });
    }),
  );
}

const message = { id: 1, consumerId: 'c1', incidentId: 1, kind: 'dispatch' as const, unitId: 'u1', deliveries: 1, incident: { id: 1 } };
const context = { log: pino({ level: 'silent' }), timeoutMs: 5000 };

test('a redirect is not followed and counts as a failed delivery', async () => {
  let internalHits = 0;
  const internal = await serve((_req, res) => {
    internalHits += 1;
    res.end('internal');
  });
  const redirector = await serve((_req, res) => {
    res.writeHead(307, { location: internal.url }).end();
  });
  try {
    const outcome = await webhookChannel.deliver(message, { consumerId: 'c1', url: redirector.url, secret: 's' }, context);
    const tally = new Tally();
    tally.record('redirect followed', internalHits > 0);
    tally.record('redirect counted as delivered', outcome.ok);
    tally.assertNoneAccepted();
    assert.match(outcome.detail, /redirects are not followed/);
  } finally {
    await redirector.close();
    await internal.close();
  }
});

test('an endless answer is cut after a bounded read', async () => {
  let written = 0;
  const endless = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = (): void => {
      while (written < 512 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      if (written < 512 * 1024 * 1024 && !res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => undefined);
    pump();
  });
  try {
    const started = Date.now();
    const outcome = await webhookChannel.deliver(message, { consumerId: 'c1', url: endless.url, secret: 's' }, context);
    assert.equal(outcome.ok, true);
    assert.ok(Date.now() - started < 4000, 'returned without reading the whole answer');
    assert.ok(written < 64 * 1024 * 1024, `the server could write only ${written} bytes before the client stopped reading`);
  } finally {
    await endless.close();
  }
});
