// Telemetry dropped by policy, from the cloud's own counters (issue 12: "any drop by policy is
// counted in metrics and visible on the admin overview"): lines the TSDB sink gave up on (refused,
// out of retries, evicted from its retry buffer, unconfirmed at stop) and messages the embedded
// broker's telemetry gate dropped (broker/telemetry-gate.ts).
import type { Registry } from 'prom-client';

async function total(registry: Registry, name: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

export async function telemetryDropped(registry: Registry): Promise<{ lines: number; messages: number }> {
  return {
    lines: await total(registry, 'gridwatch_telemetry_lines_dropped_total'),
    messages: await total(registry, 'gridwatch_telemetry_gate_dropped_messages_total'),
  };
}
