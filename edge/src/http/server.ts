// Health and metrics endpoints for the installer and for Prometheus.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.ts';

export interface Health {
  status: 'ok' | 'degraded';
  uplink: 'connected' | 'disconnected';
  outbox: { pending: number };
}

export interface HttpServerOptions {
  host: string;
  port: number;
  health: () => Health;
  registry: Registry;
}

export class HttpServer {
  private readonly options: HttpServerOptions;
  private server: Server | null = null;
  private boundPort = 0;

  constructor(options: HttpServerOptions) {
    this.options = options;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { health, registry } = this.options;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(health()));
      } else if (path === '/metrics') {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => res.writeHead(500).end(err.message),
        );
      } else {
        res.writeHead(404).end();
      }
    });
    this.server = server;
    this.boundPort = await listen(server, this.options.port, this.options.host);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
