// The connection to one Modbus bus through modbus-serial: RTU over a serial port (serialport),
// TCP to host:port, or RTU over a stream the caller provides (the captured exchanges of the profile
// vectors run through here, so they test the framing the driver really uses). One instance per bus; the scheduler guarantees one request in flight, so the
// transaction bookkeeping of modbus-serial never sees two requests at once. Errors come back as a
// ModbusIoError with a kind the scheduler counts per device.
import type { EventEmitter } from 'node:events';
import modbusSerial from 'modbus-serial';
import { EXCEPTION_NAMES } from './address.ts';
import type { ReadRequest, WriteRequest } from './frames.ts';

// modbus-serial is CommonJS: under NodeNext its default import is module.exports, whose `default`
// is the client class again.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/** `mismatch`: a well-formed answer from another unit id (two slaves sharing an id, or a late answer). */
export type ModbusErrorKind = 'timeout' | 'crc' | 'short' | 'exception' | 'mismatch' | 'io';

export class ModbusIoError extends Error {
  readonly kind: ModbusErrorKind;
  constructor(kind: ModbusErrorKind, message: string) {
    super(message);
    this.name = 'ModbusIoError';
    this.kind = kind;
  }
}

/** A byte stream carrying RTU ADUs both ways, as modbus-serial drives its ports: `write` a request, `data` events with answers. */
export interface RtuStream extends EventEmitter {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback: () => void): void;
  write(adu: Buffer): void;
}

export type BusEndpoint =
  | { kind: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'stream'; stream: RtuStream; name: string };

/** What the scheduler needs from a bus; tests may substitute their own. */
export interface ModbusTransport {
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Registers, or 0/1 per coil/discrete input. */
  read(unitId: number, request: ReadRequest, timeoutMs: number): Promise<number[]>;
  write(unitId: number, request: WriteRequest, timeoutMs: number): Promise<void>;
}

/**
 * modbus-serial's error → a kind the scheduler counts. The raw answer (kept because the client
 * runs with debug capture on) tells a mis-addressed but well-formed answer from a short one:
 * modbus-serial checks the length before the unit id.
 */
function classify(err: unknown, unitId: number): ModbusIoError {
  if (err instanceof ModbusIoError) return err;
  const e = err as { message?: string; errno?: string; modbusCode?: number; modbusResponses?: Uint8Array[] };
  const message = e.message ?? String(err);
  if (e.errno === 'ETIMEDOUT' || message === 'Timed out') return new ModbusIoError('timeout', 'no answer before the timeout');
  if (message === 'CRC error') return new ModbusIoError('crc', 'CRC error');
  if (typeof e.modbusCode === 'number') {
    return new ModbusIoError('exception', `Modbus exception ${e.modbusCode} (${EXCEPTION_NAMES[e.modbusCode] ?? 'unknown'})`);
  }
  const answer = e.modbusResponses?.at(-1);
  if (answer && answer.length >= 5 && answer[0] !== unitId && /length|address/i.test(message)) {
    return new ModbusIoError('mismatch', `answer from unit ${answer[0]}, expected ${unitId}`);
  }
  if (/length/i.test(message)) return new ModbusIoError('short', `short frame (${message})`);
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
    const client = new ModbusRTU(this.endpoint.kind === 'stream' ? this.endpoint.stream : undefined);
    // Errors after open (cable pulled, peer reset) surface on the next transaction as 'io'.
    client.on('error', () => undefined);
    // Keeps each transaction's raw answer on its error, so `classify` can name a mis-addressed one.
    (client as unknown as { isDebugEnabled: boolean }).isDebugEnabled = true;
    try {
      if (this.endpoint.kind === 'rtu') {
        const { path, baudRate, parity, dataBits, stopBits } = this.endpoint;
        await client.connectRTUBuffered(path, { baudRate, parity, dataBits, stopBits });
      } else if (this.endpoint.kind === 'tcp') {
        await client.connectTCP(this.endpoint.host, { port: this.endpoint.port });
      } else {
        await new Promise<void>((resolve, reject) => client.open((err: Error | null) => (err ? reject(err) : resolve())));
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
    if (this.endpoint.kind === 'rtu') return this.endpoint.path;
    return this.endpoint.kind === 'tcp' ? `${this.endpoint.host}:${this.endpoint.port}` : this.endpoint.name;
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
      throw classify(err, unitId);
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
      throw classify(err, unitId);
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
