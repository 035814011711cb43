// The demo's control plane on loopback: `gridwatch-sim trigger` and `gridwatch-sim scenario` talk
// to it. POST /devices/{id}/{action}[?point=&value=] acts on one device; GET /devices lists them
// with their actions; GET /scenarios lists the scripted situations.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoDevice } from './devices.ts';
import { DEMO_SCENARIOS } from './scenarios.ts';

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export class DemoControl {
  private server: Server | null = null;
  private readonly devices: Map<string, DemoDevice>;

  constructor(devices: DemoDevice[]) {
    this.devices = new Map(devices.map((d) => [d.row.id, d]));
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('control server is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'GET' && url.pathname === '/scenarios') return reply(res, 200, { scenarios: DEMO_SCENARIOS });
    if (req.method === 'GET' && url.pathname === '/devices') {
      return reply(res, 200, { devices: [...this.devices.values()].map((d) => ({ ...d.row, actions: d.actions })) });
    }
    const match = /^\/devices\/([^/]+)\/([a-z-]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) return reply(res, 404, { error: 'use POST /devices/{id}/{action}, GET /devices or GET /scenarios' });
    const [, id, action] = match as unknown as [string, string, string];
    const device = this.devices.get(decodeURIComponent(id));
    if (!device) return reply(res, 404, { error: `unknown device ${id}; known: ${[...this.devices.keys()].join(', ')}` });
    if (!device.actions.includes(action)) return reply(res, 400, { error: `unknown action ${action} for ${device.row.id}; use one of ${device.actions.join(', ')}` });
    const params = { point: url.searchParams.get('point') ?? undefined, value: url.searchParams.get('value') ?? undefined };
    device.act(action, params).then(
      () => reply(res, 200, { device: device.row.id, action }),
      (err: Error) => reply(res, 502, { error: `device ${device.row.id}: ${err.message}` }),
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
