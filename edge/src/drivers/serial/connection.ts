// One serial port (serialport): opened at start, re-opened with back-off when it errors or closes
// (USB adapter unplugged), closed at stop. Bytes go to `onData`.
import { SerialPort } from 'serialport';
import { backoffDelay } from '@gridwatch/protocol';

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

export class SerialConnection {
  private readonly options: SerialLineOptions;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onError: (err: Error) => void;
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failures = 0;

  constructor(options: SerialLineOptions, onData: (chunk: Buffer) => void, onError: (err: Error) => void) {
    this.options = options;
    this.onData = onData;
    this.onError = onError;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  start(): void {
    this.running = true;
    this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    if (!this.running) return;
    const { path, baudRate, parity, dataBits, stopBits } = this.options;
    const port = new SerialPort({ path, baudRate, parity, dataBits, stopBits, autoOpen: false });
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err) => this.onError(err));
    port.on('close', () => {
      if (this.port === port) this.retry();
    });
    port.open((err) => {
      if (err) {
        this.onError(err);
        this.retry();
        return;
      }
      this.failures = 0;
      this.port = port;
      if (!this.running) void new Promise<void>((resolve) => port.close(() => resolve()));
    });
  }

  private retry(): void {
    this.port = null;
    if (!this.running) return;
    const delay = backoffDelay(this.failures++, { baseMs: 250, maxMs: 30_000 });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
