// Shared by the notification tests: a local stand-in for a vendor's API (an HTTP server on an
// ephemeral loopback port that checks each request with the test's own verifier) and a message.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { NotifyContext, NotifyMessage } from '../src/notify/channel.ts';

export interface VendorRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface VendorReply {
  status?: number;
  json: unknown;
}

export interface VendorServer {
  origin: string;
  requests: VendorRequest[];
  close(): Promise<void>;
}

export async function startVendor(answer: (req: VendorRequest) => VendorReply | Promise<VendorReply>): Promise<VendorServer> {
  const requests: VendorRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://vendor'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      void Promise.resolve(answer(request)).then((reply) => {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const context: NotifyContext = { log: pino({ level: 'silent' }), timeoutMs: 5000, now: () => Date.now() };

export function sampleMessage(overrides: Partial<NotifyMessage> = {}): NotifyMessage {
  return {
    key: 'inc-7/step-0/p-li/wecom',
    incidentId: 7,
    level: 1,
    title: '一级告警：烟感',
    text: '一级告警 烟感 福田区华强北路1号 华强小吃店 请在5分钟内确认 http://gw.local/ack/t',
    markdown: '**一级告警：烟感**\n> 福田区华强北路1号 华强小吃店\n[确认](http://gw.local/ack/t)',
    link: 'http://gw.local/ack/t',
    params: { level: '一级', type: '烟感', place: '华强小吃店', deadline: '5分钟', link: 'http://gw.local/ack/t' },
    ...overrides,
  };
}
