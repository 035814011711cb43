// Publisher for alarm-storm, in its own process so the cloud's event loop is measured alone: each
// gateway connects, then on "go" (a line on stdin) publishes its alarms as fast as MQTT allows, one
// event per QoS 1 message (the worst case: no batching at the edge), all gateways at once. Prints
// {"ready":true} once connected and {"sent":{eventId: epochMs}} after every PUBACK.
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { SCHEMA_VERSION, encodeMessage, eventIdFor, topicFor } from '@gridwatch/protocol';

interface Args {
  mqttUrl: string;
  gateways: { gatewayId: string; site: string; secret: string }[];
  perGateway: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const clients = await Promise.all(
  args.gateways.map((gw) =>
    mqtt.connectAsync(args.mqttUrl, { username: gw.gatewayId, password: gw.secret, clientId: gw.gatewayId, reconnectPeriod: 0, protocolVersion: 4 }),
  ),
);
console.log(JSON.stringify({ ready: true }));
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const sent: Record<string, number> = {};
await Promise.all(
  args.gateways.map(async (gw, g) => {
    const client = clients[g]!;
    const pubacks: Promise<unknown>[] = [];
    for (let seq = 1; seq <= args.perGateway; seq += 1) {
      const id = eventIdFor(gw.gatewayId, seq);
      const now = Date.now();
      const event = { id, seq, deviceId: `det-${g}-${seq}`, profileId: 'acme/sd-100', alarmType: 'smoke', action: 'raise' as const, level: 2, reason: 'smoke density above 0.15 dB/m', edgeTime: now };
      sent[id] = now;
      pubacks.push(client.publishAsync(topicFor(gw, 'events'), encodeMessage('events', { v: SCHEMA_VERSION, gatewayId: gw.gatewayId, sentAt: now, events: [event] }), { qos: 1 }));
    }
    await Promise.all(pubacks);
  }),
);
console.log(JSON.stringify({ sent }));
await Promise.all(clients.map((c) => c.endAsync()));
