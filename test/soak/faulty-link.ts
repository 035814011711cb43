// The link between one edge and the broker, with the two ways a real link fails:
// - cut: every connection is closed and new ones are refused (a cable pulled, a router reboot);
// - black hole: nothing is forwarded either way and nothing is closed (a NAT entry or a mobile
//   network path that died). Connections opened during the black hole, and those alive when it
//   began, stay dead after it ends, as on a real network: only a new connection gets through.
// (test/support/tcp-proxy.ts holds only what the server sends; this holds both directions.)
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  dead: boolean;
}

export class FaultyLink {
  private readonly targetPort: number;
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  private blackHole = false;

  constructor(targetPort: number) {
    this.targetPort = targetPort;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  cut(): void {
    this.refusing = true;
    for (const pair of this.pairs) this.close(pair);
  }

  startBlackHole(): void {
    this.blackHole = true;
    for (const pair of this.pairs) pair.dead = true;
  }

  /** Ends a cut or a black hole; connections that died in a black hole stay dead. */
  restore(): void {
    this.refusing = false;
    this.blackHole = false;
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
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, dead: this.blackHole };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.dead) client.write(chunk);
    });
    // A dead path tells neither end anything: the client learns only from its own timers.
    client.on('close', () => this.close(pair)).on('error', () => this.close(pair));
    upstream.on('close', () => (pair.dead ? upstream.destroy() : this.close(pair))).on('error', () => (pair.dead ? upstream.destroy() : this.close(pair)));
  }

  private close(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
