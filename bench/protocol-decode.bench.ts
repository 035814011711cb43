// How fast the cloud (and edge) can parse and validate uplink event batches: the first cost every
// message pays at ingest. Prints messages/s and events/s on one core.
import { decodeMessage, eventIdFor, SCHEMA_VERSION, type EventsMessage } from '@gridwatch/protocol';
import { report } from './report.ts';

const BATCH = 20;
const ROUNDS = 20_000;

function batch(start: number): string {
  const message: EventsMessage = {
    v: SCHEMA_VERSION,
    gatewayId: 'gw-bench',
    sentAt: Date.now(),
    events: Array.from({ length: BATCH }, (_, i) => ({
      id: eventIdFor('gw-bench', start + i),
      seq: start + i,
      deviceId: `smoke-${i}`,
      profileId: 'generic/smoke-mqtt',
      alarmType: 'smoke',
      action: 'raise' as const,
      level: 1,
      reason: 'Smoke detected',
      edgeTime: Date.now(),
      readings: { smoke_density: 0.21, battery: 96 },
    })),
  };
  return JSON.stringify(message);
}

const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(batch(i * BATCH + 1)));
for (let i = 0; i < 2_000; i++) decodeMessage('events', payloads[i % payloads.length]!);

const started = process.hrtime.bigint();
let ok = 0;
for (let i = 0; i < ROUNDS; i++) {
  if (decodeMessage('events', payloads[i % payloads.length]!).ok) ok++;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (ok !== ROUNDS) throw new Error(`only ${ok} of ${ROUNDS} batches validated`);
console.log(`decoded ${ROUNDS} batches of ${BATCH} events in ${seconds.toFixed(2)} s`);
report('protocol-decode', [
  { metric: 'messages_per_s', value: ROUNDS / seconds, unit: 'msg/s' },
  { metric: 'events_per_s', value: (ROUNDS * BATCH) / seconds, unit: 'events/s' },
]);
