// socket.io on the API's HTTP server: the console receives each incident as it is created or
// changed, in rooms per jurisdiction so a staffer's socket only ever carries their own area's
// incidents (the server decides the rooms from the session, never the page). Logged-in users
// connect with their session cookie (browsers) or `auth: { token }`; dispatch consumers that connect
// with their API key (`auth: { apiKey }`) see every incident and also receive `dispatch` events for
// their units; anonymous clients are accepted only with `openAccess`. With PostgreSQL the @socket.io/postgres-adapter fans every
// emit out to the clients of all replicas (LISTEN/NOTIFY), so a client sees incidents committed by
// any process.
import type http from 'node:http';
import { createAdapter } from '@socket.io/postgres-adapter';
import type pg from 'pg';
import { Server } from 'socket.io';
import type { Incident } from '../incidents/incident.ts';
import type { Consumer } from '../dispatch/consumers.ts';
import { ALL_ROOM, roomOf, roomsFor } from '../auth/scope.ts';
import { sessionCookie } from '../auth/session.ts';
import type { User } from '../auth/users.ts';

export const INCIDENT_EVENT = 'incident';
export const DISPATCH_EVENT = 'dispatch';

export interface LiveFeedOptions {
  /** Pool for the cross-process adapter; null with PGlite (one process). */
  adapterPool: pg.Pool | null;
  /** The consumer and its reach (auth/consumer-scope.ts: null = every incident). */
  authenticate: (apiKey: string) => Promise<(Consumer & { reach: User | null }) | null>;
  /** The user of a session token, or null. */
  sessionUser: (token: string) => Promise<User | null>;
  /** Anonymous sockets are let in (and see everything) only when true. */
  openAccess: boolean;
}

function authField(auth: unknown, name: string): string | null {
  if (typeof auth !== 'object' || auth === null || !(name in auth)) return null;
  const value = (auth as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
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
      const fail = (err: unknown): void => next(err instanceof Error ? err : new Error(String(err)));
      const apiKey = authField(socket.handshake.auth, 'apiKey');
      if (apiKey !== null) {
        this.options.authenticate(apiKey).then((consumer) => {
          if (!consumer) return next(new Error('apiKey: unknown'));
          for (const unit of consumer.units) void socket.join(`unit:${unit}`);
          // A consumer hears the incidents of its units' areas only, like a user of those jurisdictions.
          for (const room of consumer.reach === null ? [ALL_ROOM] : consumer.reach.jurisdictions.map(roomOf)) void socket.join(room);
          next();
        }, fail);
        return;
      }
      const token = authField(socket.handshake.auth, 'token') ?? sessionCookie(socket.handshake.headers.cookie);
      if (token !== null) {
        this.options.sessionUser(token).then((user) => {
          if (!user) return next(new Error('session: expired or logged out; log in again'));
          for (const jurisdiction of user.jurisdictions) void socket.join(roomOf(jurisdiction));
          void socket.join(`user:${user.username}`);
          socket.data.username = user.username;
          next();
        }, fail);
        return;
      }
      if (!this.options.openAccess) return next(new Error('session: log in first (POST /api/v1/auth/login)'));
      void socket.join(ALL_ROOM);
      next();
    });
    this.io = io;
  }

  emitIncident(incident: Incident): void {
    // socket.io sends once per socket however many of the rooms it is in.
    this.io?.to(roomsFor(incident)).emit(INCIDENT_EVENT, incident);
  }

  emitDispatch(push: DispatchPush): void {
    this.io?.to([`unit:${push.unitId}`, 'unit:*']).emit(DISPATCH_EVENT, push);
  }

  /** Ends the sockets of a user who logged out. */
  disconnectUser(username: string): void {
    this.io?.in(`user:${username}`).disconnectSockets(true);
  }

  /** Disconnects every client. socket.io also closes the HTTP server it is attached to. */
  async stop(): Promise<void> {
    const io = this.io;
    this.io = null;
    if (io) await new Promise<void>((resolve) => void io.close(() => resolve()));
  }
}
