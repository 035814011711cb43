// Shared test helpers: a throw-away PostgreSQL database per run, gateway MQTT clients and message
// builders. Everything here talks to real components.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { SCHEMA_VERSION, eventIdFor, type AlarmEvent, type EventsMessage } from '@gridwatch/protocol';

export const ADMIN_URL = process.env.GRIDWATCH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a uniquely named database so parallel test files and runs never share state. */
export async function createTempDatabase(): Promise<TempDatabase> {
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

// The one polling helper of every workspace's tests.
export { eventually } from '../../test/support/eventually.ts';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function connectGateway(url: string, gatewayId: string, secret: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { username: gatewayId, password: secret, reconnectPeriod: 0, protocolVersion: 4, clientId: gatewayId }, false);
}

export function alarmEvent(gatewayId: string, seq: number, overrides: Partial<AlarmEvent> = {}): AlarmEvent {
  return {
    id: eventIdFor(gatewayId, seq),
    seq,
    deviceId: 'smoke-01',
    profileId: 'acme/sd-100',
    alarmType: 'smoke',
    action: 'raise',
    level: 2,
    reason: 'smoke density 0.21 dB/m above 0.15',
    edgeTime: 1_750_000_000_000 + seq,
    addressId: 'SZ-FT-0001-0203',
    readings: { smoke_db_m: 0.21 },
    ...overrides,
  };
}

export function eventsMessage(gatewayId: string, events: AlarmEvent[]): EventsMessage {
  return { v: SCHEMA_VERSION, gatewayId, sentAt: Date.now(), events };
}

/** Next `close` of an mqtt.js client (its typed emitter does not fit node:events `once`). */
export function nextClose(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

export function nextMessage(client: MqttClient): Promise<[topic: string, payload: Buffer]> {
  return new Promise((resolve) => client.once('message', (topic, payload) => resolve([topic, payload])));
}
