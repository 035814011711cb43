// Modbus TCP server for simulated devices: MBAP header (MODBUS Messaging on TCP/IP Implementation
// Guide V1.0b §3.1.3: transaction id, protocol id 0, length, unit id) + PDU. One server can host
// many unit ids (like a TCP gateway in front of a line), or one server per device.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ModbusDeviceSim } from './device.ts';

export interface ModbusTcpSimOptions {
  host?: string;
  /** 0 = ephemeral; read `port` after start(). */
  port?: number;
  devices: ModbusDeviceSim[];
}

export class ModbusTcpSim {
  private readonly options: ModbusTcpSimOptions;
  private readonly units: Map<number, ModbusDeviceSim>;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | null = null;

  constructor(options: ModbusTcpSimOptions) {
    this.options = options;
    this.units = new Map(options.devices.map((d) => [d.unitId, d]));
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const d of this.units.values()) d.stopChatter();
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 7) {
        const length = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
          // Not Modbus: MBAP protocol id must be 0 (§3.1.3); drop the connection.
          socket.destroy();
          return;
        }
        if (buf.length < 6 + length) break;
        const adu = buf.subarray(0, 6 + length);
        buf = buf.subarray(6 + length);
        this.answer(socket, adu);
      }
    });
  }

  private answer(socket: Socket, adu: Buffer): void {
    const device = this.units.get(adu[6]!);
    if (!device) return; // no such unit behind this "gateway": stay silent, the client times out
    const pdu = device.handle(Buffer.from(adu.subarray(7)));
    if (!pdu) return;
    let out: Buffer = Buffer.alloc(7 + pdu.length);
    adu.copy(out, 0, 0, 4);
    out.writeUInt16BE(pdu.length + 1, 4);
    out[6] = adu[6]!;
    pdu.copy(out, 7);
    if (device.scenario === 'corrupt') out = out.subarray(0, out.length - 1); // short frame
    const send = () => {
      if (!socket.destroyed) socket.write(out);
    };
    if (device.scenario === 'slow') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, device.slowMs);
      this.timers.add(timer);
    } else {
      send();
    }
  }
}
