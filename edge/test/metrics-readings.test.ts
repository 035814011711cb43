// gridwatch_edge_readings_total is counted in plain numbers per report and published at scrape
// time (metrics.ts DeviceCounts): the figures on /metrics must still be exact, per device, across
// scrapes taken between reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { decodeReport, startAgent } from '../src/index.ts';
import { DEVICE, agentConfig, captureLogger, connectDevice, startTestCloud, tempDir } from './helpers.ts';

async function readingsTotals(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new Map([...text.matchAll(/^gridwatch_edge_readings_total\{device="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

test('readings_total on /metrics is exact per device after N reports, across scrapes between them', async () => {
  const cloud = await startTestCloud();
  const { dir, cleanup } = tempDir();
  const agent = await startAgent(agentConfig(join(dir, 'data'), cloud.url), { logger: captureLogger().logger });
  const profile = loadProfiles().profiles.get('generic/smoke-mqtt')!.profile;
  const payloads = [{ alarm: false }, { alarm: false, battery: 80 }, { tamper: false }].map((p) => JSON.stringify(p));
  // What each payload decodes to, so the expected totals follow the profile rather than a constant.
  const perReport = payloads.map((p) => {
    const decoded = decodeReport(profile, DEVICE.id, Buffer.from(p), Date.now());
    assert.ok(decoded.ok);
    return decoded.readings.length;
  });
  const one = await connectDevice(agent.localMqttPort, DEVICE.username, DEVICE.password);
  const two = await connectDevice(agent.localMqttPort, 'smoke-2', 'other-password');
  try {
    const expected = new Map<string, number>();
    const send = async (client: typeof one, id: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        // QoS 1: the PUBACK follows the pipeline, so the report is counted once it resolves.
        await client.publishAsync(`dev/${id}/up`, payloads[i % payloads.length]!, { qos: 1 });
        expected.set(id, (expected.get(id) ?? 0) + perReport[i % payloads.length]!);
      }
    };
    assert.deepEqual(await readingsTotals(agent.httpPort), new Map(), 'no series before the first report');
    await send(one, DEVICE.id, 7);
    assert.deepEqual(await readingsTotals(agent.httpPort), expected);
    await send(one, DEVICE.id, 11);
    await send(two, 'smoke-2', 5);
    assert.deepEqual(await readingsTotals(agent.httpPort), expected);
    assert.deepEqual(await readingsTotals(agent.httpPort), expected, 'a scrape without new reports adds nothing');
  } finally {
    await one.endAsync();
    await two.endAsync();
    await agent.stop();
    await cloud.stop();
    cleanup();
  }
});
