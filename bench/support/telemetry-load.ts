// Load generator for cloud-ingest, in its own process so the cloud's event loop is measured alone:
// each gateway publishes 5,000-reading telemetry batches, paced to a total rate in readings/s
// (0 = as fast as PUBACKs come back). Prints {"published":N} when told to stop (SIGTERM).
import mqtt from 'mqtt';
import { SCHEMA_VERSION, encodeMessage, topicFor, type Reading } from '@gridwatch/protocol';

interface Args {
  mqttUrl: string;
  gateways: { gatewayId: string; site: string; secret: string }[];
  rate: number;
}

const BATCH = 5000;
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let running = true;
let published = 0;
/** Pending pacing sleeps, cut short on SIGTERM so a slow rate never outlives the phase. */
const sleeping = new Set<() => void>();
process.once('SIGTERM', () => {
  running = false;
  for (const wake of sleeping) wake();
});
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      sleeping.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleeping.add(wake);
  });
}

const clients = await Promise.all(
  args.gateways.map((gw) => mqtt.connectAsync(args.mqttUrl, { username: gw.gatewayId, password: gw.secret, clientId: gw.gatewayId, reconnectPeriod: 0 })),
);
console.log(JSON.stringify({ ready: true }));

const t0 = Date.now() - 3_600_000;
const started = performance.now();
await Promise.all(
  args.gateways.map(async (gw, g) => {
    const client = clients[g]!;
    let seq = 0;
    while (running) {
      seq += 1;
      const readings: Reading[] = Array.from({ length: BATCH }, (_, i) => ({ deviceId: `dev-${i % 100}`, point: `p${i % 50}`, value: i * 0.5, t: t0 + seq * BATCH + i + g }));
      await client.publishAsync(topicFor(gw, 'telemetry'), encodeMessage('telemetry', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, seq, sentAt: Date.now(), readings }), { qos: 1 });
      published += BATCH;
      if (args.rate > 0) {
        // Pace the whole generator to `rate`: sleep until the published total is due.
        const dueMs = (published / args.rate) * 1000 - (performance.now() - started);
        if (dueMs > 0 && running) await sleep(dueMs);
      }
    }
  }),
);
await Promise.all(clients.map((c) => c.endAsync()));
console.log(JSON.stringify({ published }));
