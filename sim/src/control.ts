// A small HTTP control plane so a running simulator can be told to trigger from another terminal:
// POST /devices/{id}/{alarm|clear|test|fault|fault-clear}.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SmokeDetectorSim } from './smoke-detector.ts';

export const CONTROL_ACTIONS = ['alarm', 'clear', 'test', 'fault', 'fault-clear'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export function isControlAction(value: string): value is ControlAction {
  return (CONTROL_ACTIONS as readonly string[]).includes(value);
}

export async function applyAction(device: SmokeDetectorSim, action: ControlAction): Promise<void> {
  switch (action) {
    case 'alarm':
      return device.alarm();
    case 'clear':
      return device.clear();
    case 'test':
      return device.selfTest();
    case 'fault':
      return device.setFault(true);
    case 'fault-clear':
      return device.setFault(false);
  }
}

export class SimControlServer {
  private readonly devices: Map<string, SmokeDetectorSim>;
  private readonly host: string;
  private readonly requestedPort: number;
  private server: Server | null = null;

  constructor(devices: SmokeDetectorSim[], host = '127.0.0.1', port = 0) {
    this.devices = new Map(devices.map((d) => [d.deviceId, d]));
    this.host = host;
    this.requestedPort = port;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('control server is not listening');
    return `http://${this.host}:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const match = /^\/devices\/([^/]+)\/([a-z-]+)$/.exec(req.url ?? '');
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !match) {
        return reply(404, { error: 'use POST /devices/{id}/{alarm|clear|test|fault|fault-clear}' });
      }
      const [, id, action] = match as unknown as [string, string, string];
      const device = this.devices.get(decodeURIComponent(id));
      if (!device) return reply(404, { error: `unknown device ${id}; known: ${[...this.devices.keys()].join(', ')}` });
      if (!isControlAction(action)) return reply(400, { error: `unknown action ${action}; use one of ${CONTROL_ACTIONS.join(', ')}` });
      applyAction(device, action).then(
        () => reply(200, { device: device.deviceId, action, state: device.current }),
        (err: Error) => reply(502, { error: `device ${device.deviceId} could not publish: ${err.message}` }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.requestedPort, this.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
