// socket.io on the API's HTTP server: the console receives each incident as it is created or
// changed; dispatch consumers that connect with their API key (`auth: { apiKey }`) also receive
// `dispatch` events for their units. With PostgreSQL the @socket.io/postgres-adapter fans every
// emit out to the clients of all replicas (LISTEN/NOTIFY), so a client sees incidents committed by
// any process.
import type http from 'node:http';
import { createAdapter } from '@socket.io/postgres-adapter';
import type pg from 'pg';
import { Server } from 'socket.io';
import type { Incident } from '../incidents/incident.ts';
import type { Consumer } from '../dispatch/consumers.ts';

export const INCIDENT_EVENT = 'incident';
export const DISPATCH_EVENT = 'dispatch';

export interface LiveFeedOptions {
  /** Pool for the cross-process adapter; null with PGlite (one process). */
  adapterPool: pg.Pool | null;
  authenticate: (apiKey: string) => Promise<Consumer | null>;
}

export interface DispatchPush {
  kind: 'dispatch' | 'escalation';
  unitId: string;
  incident: Incident;
}

export class LiveFeed {
  private io: Server | null = null;

  constructor(
    private readonly server: http.Server,
    private readonly options: LiveFeedOptions,
  ) {}

  start(): void {
    const io = new Server(this.server, {
      serveClient: true,
      ...(this.options.adapterPool ? { adapter: createAdapter(this.options.adapterPool) } : {}),
    });
    io.use((socket, next) => {
      const auth: unknown = socket.handshake.auth;
      const apiKey = typeof auth === 'object' && auth !== null && 'apiKey' in auth && typeof auth.apiKey === 'string' ? auth.apiKey : null;
      if (apiKey === null) return next();
      this.options.authenticate(apiKey).then(
        (consumer) => {
          if (!consumer) return next(new Error('apiKey: unknown'));
          for (const unit of consumer.units) void socket.join(`unit:${unit}`);
          next();
        },
        (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
      );
    });
    this.io = io;
  }

  emitIncident(incident: Incident): void {
    this.io?.emit(INCIDENT_EVENT, incident);
  }

  emitDispatch(push: DispatchPush): void {
    this.io?.to([`unit:${push.unitId}`, 'unit:*']).emit(DISPATCH_EVENT, push);
  }

  /** Disconnects every client. socket.io also closes the HTTP server it is attached to. */
  async stop(): Promise<void> {
    const io = this.io;
    this.io = null;
    if (io) await new Promise<void>((resolve) => void io.close(() => resolve()));
  }
}
