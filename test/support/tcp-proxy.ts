// A TCP proxy the tests put between a client and a server to misbehave on purpose: it can hold
// back everything the server sends (an ack that never arrives) or cut the link altogether.
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  held: Buffer[];
  /** Black-holed: bytes both ways vanish for the rest of this connection's life. */
  dead: boolean;
}

export class TcpProxy {
  private readonly targetHost: string;
  private readonly targetPort: number;
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private holding = false;
  private refusing = false;
  private swallowing = false;

  constructor(targetHost: string, targetPort: number) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** Holds every byte the server sends from now on; the client sees silence, not a close. */
  holdDownstream(): void {
    this.holding = true;
  }

  /** Drops what was held (it never reaches the client) and passes traffic again. */
  dropHeldAndPass(): void {
    this.holding = false;
    for (const pair of this.pairs) pair.held = [];
  }

  /**
   * A black hole (a lost NAT entry, a dead radio link): every byte either way vanishes and nothing
   * is closed. Connections open now or made before restore() stay dead for good; after restore()
   * new connections work.
   */
  blackHole(): void {
    this.swallowing = true;
    for (const pair of this.pairs) pair.dead = true;
  }

  /** Closes every connection and refuses new ones until restore(). */
  cut(): void {
    this.refusing = true;
    for (const pair of this.pairs) this.close(pair);
  }

  restore(): void {
    this.refusing = false;
    this.holding = false;
    this.swallowing = false;
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) this.close(pair);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, held: [], dead: this.swallowing };
    this.pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (pair.dead) return;
      if (this.holding) pair.held.push(chunk);
      else client.write(chunk);
    });
    const close = () => this.close(pair);
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  private close(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
