// Child process of the gateway-reconnect bench: opens one real MQTT connection per gateway (raw
// sockets and a hand-made CONNECT, so 10,000 clients fit in one process), each with its own credential and
// client id = gateway id, `concurrency` CONNECTs in flight at a time. Prints one JSON line:
// { connected, refused, connectAllS } once every CONNACK arrived, then holds the connections until
// SIGTERM.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** MQTT 3.1.1 CONNECT (§3.1): clean session, username and password, keep-alive off. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const str = (text: string): Buffer => {
    const bytes = Buffer.from(text, 'utf8');
    const out = Buffer.alloc(2 + bytes.length);
    out.writeUInt16BE(bytes.length, 0);
    bytes.copy(out, 2);
    return out;
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 0]), str(clientId), str(username), str(password)]);
  const length: number[] = [];
  let n = body.length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    length.push(digit);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...length]), body]);
}

interface Args {
  port: number;
  credentialsFile: string;
  concurrency: number;
}

const args = JSON.parse(process.argv[2] as string) as Args;
const credentials = JSON.parse(readFileSync(args.credentialsFile, 'utf8')) as { gatewayId: string; secret: string }[];
const sockets: net.Socket[] = [];

function connect(gatewayId: string, secret: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(args.port, '127.0.0.1');
    socket.setNoDelay(true);
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (!ok) socket.destroy();
      resolve(ok);
    };
    // CONNACK (§3.2): 0x20 0x02 <flags> <return code>; nothing else arrives before it.
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) done(received[0] === 0x20 && received[3] === 0);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('connect', () => {
      socket.write(connectPacket(gatewayId, gatewayId, secret));
    });
    sockets.push(socket);
  });
}

const started = performance.now();
let next = 0;
let connected = 0;
let refused = 0;
async function lane(): Promise<void> {
  while (next < credentials.length) {
    const c = credentials[next++] as { gatewayId: string; secret: string };
    if (await connect(c.gatewayId, c.secret)) connected += 1;
    else refused += 1;
  }
}
await Promise.all(Array.from({ length: args.concurrency }, () => lane()));
console.log(JSON.stringify({ connected, refused, connectAllS: (performance.now() - started) / 1000 }));
process.once('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
