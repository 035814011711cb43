// The live state of the console: the board's incidents by id (REST list, then socket.io `incident`
// events applied by id), the shelved ones, and the connection. Components subscribe and re-render;
// Preact's keyed diff then patches the rows in place.
import { io, type Socket } from 'socket.io-client';
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { alarm } from './alarm.ts';
import { isOpenStatus } from './board-model.ts';
import type { Catalogue, Incident } from './types.ts';

/** online: socket connected; reconnecting: the network is there, the socket is not; offline: no network. */
export type Connection = 'online' | 'reconnecting' | 'offline';

export class ConsoleStore {
  readonly incidents = new Map<number, Incident>();
  readonly shelved = new Map<number, Incident>();
  /** When each incident was first put on the board (page clock): the flash, and the tests' latency. */
  readonly shownAt = new Map<number, number>();
  /** When each incident last changed live (socket or an action's answer): the row flashes then. */
  readonly changedAt = new Map<number, number>();
  connection: Connection = 'reconnecting';
  version = 0;
  private socket: Socket | null = null;
  private unlisten: () => void = () => undefined;
  private readonly listeners = new Set<() => void>();

  constructor(readonly catalogue: Catalogue) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(): void {
    this.version += 1;
    for (const l of this.listeners) l();
  }

  /** The list from REST, merged by id: a socket update newer than the answer is kept. */
  async load(): Promise<void> {
    const asked = Date.now();
    const [board, shelved] = await Promise.all([http.board(), http.incidents({ shelved: true }).catch(() => ({ incidents: [] as Incident[] }))]);
    const fresh = new Map<number, Incident>([...board.incidents, ...shelved.incidents.filter((i) => i.shelvedUntil)].map((i) => [i.id, i]));
    for (const map of [this.incidents, this.shelved]) {
      for (const [id, i] of map) if (!fresh.has(id) && i.updatedAt < asked) map.delete(id);
    }
    for (const i of fresh.values()) {
      const known = this.incidents.get(i.id) ?? this.shelved.get(i.id);
      if (known && known.updatedAt > i.updatedAt) continue;
      this.incidents.delete(i.id);
      this.shelved.delete(i.id);
      (i.shelvedUntil ? this.shelved : this.incidents).set(i.id, { ...i, deadlines: i.deadlines ?? known?.deadlines ?? [] });
      if (!this.shownAt.has(i.id)) this.shownAt.set(i.id, asked);
    }
    this.emit();
  }

  /** One incident from the socket or an action's answer: put where it belongs, by id. */
  apply(incident: Incident): void {
    const previous = this.incidents.get(incident.id) ?? this.shelved.get(incident.id);
    this.incidents.delete(incident.id);
    this.shelved.delete(incident.id);
    const merged: Incident = { ...incident, deadlines: incident.deadlines ?? previous?.deadlines ?? [] };
    if (incident.shelvedUntil) this.shelved.set(incident.id, merged);
    // Folded into a flood notice or a chattering incident: the notice stands for it on the board.
    else if (incident.groupId === null || incident.groupId === undefined) this.incidents.set(incident.id, merged);
    if (!this.shownAt.has(incident.id)) this.shownAt.set(incident.id, Date.now());
    this.changedAt.set(incident.id, Date.now());
    if (!previous && isOpenStatus(this.catalogue, incident.status) && this.incidents.has(incident.id)) alarm(incident);
    this.emit();
    // Deadlines change with the status: refresh them for this incident only.
    if (!previous || previous.status !== incident.status) void this.refreshDeadlines(incident.id);
  }

  private async refreshDeadlines(id: number): Promise<void> {
    try {
      const ctx = await http.context(id);
      const current = this.incidents.get(id);
      if (!current) return;
      this.incidents.set(id, { ...current, deadlines: ctx.deadlines });
      this.emit();
    } catch {
      // Gone from scope or offline: the next update brings them.
    }
  }

  private setConnection(c: Connection): void {
    if (this.connection === c) return;
    this.connection = c;
    this.emit();
  }

  /** The session cookie goes with the handshake: the server puts this socket in the user's rooms. */
  connect(): void {
    const socket = io({ transports: ['websocket'] });
    this.socket = socket;
    const offline = (): void => this.setConnection(navigator.onLine === false ? 'offline' : 'reconnecting');
    socket.on('connect', () => {
      this.setConnection('online');
      // What happened while disconnected: the list again (rows stay the same elements, keyed by id).
      void this.load().catch(() => undefined);
    });
    socket.on('disconnect', offline);
    socket.io.on('reconnect_attempt', offline);
    socket.on('incident', (i: Incident) => this.apply(i));
    window.addEventListener('offline', offline);
    window.addEventListener('online', offline);
    this.unlisten = () => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', offline);
    };
  }

  close(): void {
    this.unlisten();
    this.socket?.close();
    this.socket = null;
  }
}

/** Re-render on every change of the store (none yet: before login). */
export function useStore(store: ConsoleStore | null): number {
  const [, setVersion] = useState(store?.version ?? 0);
  useEffect(() => store?.subscribe(() => setVersion(store.version)), [store]);
  return store?.version ?? 0;
}
