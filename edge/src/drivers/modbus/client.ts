// The connection to one Modbus bus through modbus-serial: RTU over a serial port (serialport) or
// TCP to host:port. One instance per bus; the scheduler guarantees one request in flight, so the
// transaction bookkeeping of modbus-serial never sees two requests at once. Errors come back as a
// ModbusIoError with a kind the scheduler counts per device.
import modbusSerial from 'modbus-serial';
import { EXCEPTION_NAMES } from './address.ts';
import type { ReadRequest, WriteRequest } from './frames.ts';

// modbus-serial is CommonJS: under NodeNext its default import is module.exports, whose `default`
// is the client class again.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

export type ModbusErrorKind = 'timeout' | 'crc' | 'short' | 'exception' | 'io';

export class ModbusIoError extends Error {
  readonly kind: ModbusErrorKind;
  constructor(kind: ModbusErrorKind, message: string) {
    super(message);
    this.name = 'ModbusIoError';
    this.kind = kind;
  }
}

export type BusEndpoint =
  | { kind: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 }
  | { kind: 'tcp'; host: string; port: number };

/** What the scheduler needs from a bus; tests may substitute their own. */
export interface ModbusTransport {
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Registers, or 0/1 per coil/discrete input. */
  read(unitId: number, request: ReadRequest, timeoutMs: number): Promise<number[]>;
  write(unitId: number, request: WriteRequest, timeoutMs: number): Promise<void>;
}

function classify(err: unknown): ModbusIoError {
  if (err instanceof ModbusIoError) return err;
  const e = err as { message?: string; errno?: string; modbusCode?: number };
  const message = e.message ?? String(err);
  if (e.errno === 'ETIMEDOUT' || message === 'Timed out') return new ModbusIoError('timeout', 'no answer before the timeout');
  if (message === 'CRC error') return new ModbusIoError('crc', 'CRC error');
  if (typeof e.modbusCode === 'number') {
    return new ModbusIoError('exception', `Modbus exception ${e.modbusCode} (${EXCEPTION_NAMES[e.modbusCode] ?? 'unknown'})`);
  }
  if (/length/i.test(message)) return new ModbusIoError('short', message);
  return new ModbusIoError('io', message);
}

export class ModbusSerialTransport implements ModbusTransport {
  private readonly endpoint: BusEndpoint;
  private client: ModbusRTU | null = null;

  constructor(endpoint: BusEndpoint) {
    this.endpoint = endpoint;
  }

  get isOpen(): boolean {
    return this.client?.isOpen ?? false;
  }

  async open(): Promise<void> {
    await this.close();
    const client = new ModbusRTU();
    // Errors after open (cable pulled, peer reset) surface on the next transaction as 'io'.
    client.on('error', () => undefined);
    try {
      if (this.endpoint.kind === 'rtu') {
        const { path, baudRate, parity, dataBits, stopBits } = this.endpoint;
        await client.connectRTUBuffered(path, { baudRate, parity, dataBits, stopBits });
      } else {
        await client.connectTCP(this.endpoint.host, { port: this.endpoint.port });
      }
    } catch (err) {
      await closeClient(client);
      throw new ModbusIoError('io', `cannot open ${this.describe()}: ${(err as Error).message}`);
    }
    this.client = client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await closeClient(client);
  }

  describe(): string {
    return this.endpoint.kind === 'rtu' ? this.endpoint.path : `${this.endpoint.host}:${this.endpoint.port}`;
  }

  async read(unitId: number, { table, address, count }: ReadRequest, timeoutMs: number): Promise<number[]> {
    const client = this.ready(unitId, timeoutMs);
    try {
      switch (table) {
        case 'coil':
          return bits((await client.readCoils(address, count)).data, count);
        case 'discrete':
          return bits((await client.readDiscreteInputs(address, count)).data, count);
        case 'holding':
          return (await client.readHoldingRegisters(address, count)).data;
        case 'input':
          return (await client.readInputRegisters(address, count)).data;
      }
    } catch (err) {
      throw classify(err);
    }
  }

  async write(unitId: number, { table, address, values }: WriteRequest, timeoutMs: number): Promise<void> {
    const client = this.ready(unitId, timeoutMs);
    try {
      if (table === 'coil') {
        if (values.length === 1) await client.writeCoil(address, Boolean(values[0]));
        else await client.writeCoils(address, values.map(Boolean));
      } else if (values.length === 1) {
        await client.writeRegister(address, values[0]!);
      } else {
        await client.writeRegisters(address, values);
      }
    } catch (err) {
      throw classify(err);
    }
  }

  private ready(unitId: number, timeoutMs: number): ModbusRTU {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusIoError('io', `${this.describe()} is not open`);
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    return client;
  }
}

/** modbus-serial does not call back when closing a port that never opened; don't wait for it long. */
function closeClient(client: ModbusRTU): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 200);
    client.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function bits(data: boolean[], count: number): number[] {
  return data.slice(0, count).map((b) => (b ? 1 : 0));
}
