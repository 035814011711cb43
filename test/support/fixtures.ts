// Builds the pieces an end-to-end test needs: a gateway registered in a running cloud, an edge
// config file pointing at it, and simulated detectors with their own credentials.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Cloud, Incident } from '@gridwatch/cloud';

export interface GatewayFixture {
  gatewayId: string;
  site: string;
  secret: string;
  dir: string;
  configFile: string;
  devices: { id: string; username: string; password: string; addressId: string }[];
}

export async function gatewayFixture(cloud: Cloud, options: { gatewayId: string; cloudUrl: string; deviceIds: string[]; site?: string }): Promise<GatewayFixture> {
  const site = options.site ?? 'futian-test';
  const secret = randomBytes(16).toString('hex');
  await cloud.gateways.addGateway({ gatewayId: options.gatewayId, site, secret });
  const dir = mkdtempSync(join(tmpdir(), `gridwatch-${options.gatewayId}-`));
  const devices = options.deviceIds.map((id, i) => ({ id, username: id, password: randomBytes(8).toString('hex'), addressId: `FT-TEST-${String(i + 1).padStart(4, '0')}` }));
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(
    configFile,
    stringify({
      version: 1,
      gateway: { id: options.gatewayId, site },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: options.cloudUrl, password: secret, resendAfterMs: 1000, reconnectPeriodMs: 200 },
      local: { host: '127.0.0.1', mqttPort: 0, httpPort: 0 },
      devices: devices.map((d) => ({ id: d.id, profile: 'generic/smoke-mqtt', addressId: d.addressId, mqtt: { username: d.username, password: d.password } })),
    }),
  );
  return { gatewayId: options.gatewayId, site, secret, dir, configFile, devices };
}

export async function incidentsFor(cloud: Cloud, deviceId: string): Promise<Incident[]> {
  const response = await fetch(`${cloud.httpUrl}/api/v1/incidents?limit=1000`);
  if (!response.ok) throw new Error(`GET /api/v1/incidents answered ${response.status}`);
  const body = (await response.json()) as { incidents: Incident[] };
  return body.incidents.filter((i) => i.deviceId === deviceId);
}

export async function eventRowsFor(cloud: Cloud, deviceId: string): Promise<{ event_id: string; action: string }[]> {
  return cloud.store.query<{ event_id: string; action: string }>('SELECT event_id, action FROM events WHERE device_id = $1 ORDER BY event_id', [deviceId]);
}
