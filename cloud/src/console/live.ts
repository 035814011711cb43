// socket.io on the API's HTTP server: the console receives each incident as it is created or
// changed. A PostgreSQL adapter for several replicas comes with the multi-replica step.
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Incident } from '../incidents/incident.ts';

export const INCIDENT_EVENT = 'incident';

export class LiveFeed {
  private io: Server | null = null;

  constructor(private readonly server: http.Server) {}

  start(): void {
    this.io = new Server(this.server, { serveClient: true });
  }

  emitIncident(incident: Incident): void {
    this.io?.emit(INCIDENT_EVENT, incident);
  }

  /** Disconnects every client. socket.io also closes the HTTP server it is attached to. */
  async stop(): Promise<void> {
    const io = this.io;
    this.io = null;
    if (io) await new Promise<void>((resolve) => void io.close(() => resolve()));
  }
}
