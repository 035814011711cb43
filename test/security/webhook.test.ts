// Attack: a webhook receiver that redirects the signed delivery elsewhere (SSRF into the internal
// network) or answers with an endless body (memory). The delivery follows no redirect (the other
// server is never reached) and reads at most a bounded answer. Planted regressions: the same
// receivers against a channel built with each protection off (createWebhookChannel, a test seam).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { pino } from 'pino';
import { createWebhookChannel, webhookChannel } from '../../cloud/src/dispatch/channels/webhook/index.ts';
import type { ChannelDescriptor } from '../../cloud/src/dispatch/channels/index.ts';
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

const MiB = 1024 * 1024;
/** The channel with both protections off: redirects followed, the whole answer read. */
const unguarded = createWebhookChannel({ redirect: 'follow', maxResponseBytes: Number.POSITIVE_INFINITY });

/** A receiver redirecting to an internal server; accepted = the internal one was reached or it counted as delivered. */
async function redirectAttack(channel: ChannelDescriptor): Promise<{ tally: Tally; detail: string }> {
  let internalHits = 0;
  const internal = await serve((_req, res) => {
    internalHits += 1;
    res.end('internal');
  });
  const redirector = await serve((_req, res) => {
    res.writeHead(307, { location: internal.url }).end();
  });
  try {
    const outcome = await channel.deliver(message, { consumerId: 'c1', url: redirector.url, secret: 's' }, context);
    const tally = new Tally();
    tally.record('redirect followed', internalHits > 0);
    tally.record('redirect counted as delivered', outcome.ok);
    return { tally, detail: outcome.detail };
  } finally {
    await redirector.close();
    await internal.close();
  }
}

/** A receiver answering 512 MiB; accepted = the server could write far more than the bounded read. */
async function endlessAttack(channel: ChannelDescriptor, timeoutMs: number): Promise<{ tally: Tally; written: number; ms: number }> {
  let written = 0;
  const endless = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    // Every chunk handed to the socket counts (write() returning false only asks to wait for drain).
    const pump = (): void => {
      while (written < 512 * MiB && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
  try {
    const started = Date.now();
    await channel.deliver(message, { consumerId: 'c1', url: endless.url, secret: 's' }, { ...context, timeoutMs });
    const tally = new Tally();
    tally.record('endless answer read', written > 32 * MiB);
    return { tally, written, ms: Date.now() - started };
  } finally {
    await endless.close();
  }
}

test('planted regression: a channel that follows redirects reaches the internal server', async () => {
  const { tally } = await redirectAttack(unguarded);
  const summary = tally.summary();
  assert.equal(summary['redirect followed']?.accepted, 1, JSON.stringify(summary));
});

test('bounded read: 0 accepted; planted regression: an unbounded read lets the receiver stream on', async () => {
  const guarded = await endlessAttack(webhookChannel, 5000);
  guarded.tally.assertNoneAccepted();
  assert.ok(guarded.ms < 4000, `returned after ${guarded.ms} ms without reading the whole answer`);
  const open = await endlessAttack(unguarded, 3000);
  assert.throws(() => open.tally.assertNoneAccepted(), /endless answer read: 1 of 1/, `the unbounded read took only ${open.written} bytes`);
});

test('a redirect is not followed and counts as a failed delivery', async () => {
  const { tally, detail } = await redirectAttack(webhookChannel);
  tally.assertNoneAccepted();
  assert.match(detail, /redirects are not followed/);
});
