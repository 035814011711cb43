// The soak's CI size: 24 random fault cycles (SIGKILL of an edge or the cloud, Mosquitto restarts,
// cut and black-holed links, an edge killed right after a device's PUBACK) on real PostgreSQL and
// Mosquitto, then every alarm change the detectors made must be in PostgreSQL once, in order, and
// the cloud's final state per source must match the device. `npm run soak` is the long version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { MOSQUITTO } from './mosquitto.ts';
import { cleanRunDir, runSoak } from './soak.ts';

const CYCLES = 24;
const SEED = Number(process.env.GRIDWATCH_SOAK_SEED ?? 0x5eed10);

test(`soak, ${CYCLES} cycles: no alarm change lost, duplicated or reordered`, { skip: !existsSync(MOSQUITTO) && 'mosquitto not installed', timeout: 240_000 }, async () => {
  const lines: string[] = [];
  const run = runSoak({
    cycles: CYCLES,
    seed: SEED,
    edges: 2,
    mqttDevicesPerEdge: 3,
    modbusDevicesPerEdge: 2,
    pauseMs: [200, 1000],
    drainTimeoutS: 45,
    log: (line) => lines.push(line),
  });
  // A run that cannot even finish (a process that will not start) says how far it got.
  const result = await run.catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${lines.join('\n')}`);
  });
  const summary = [...lines, ...result.figures.map((f) => JSON.stringify(f)), ...result.problems.slice(0, 20), `run folder: ${result.dir}`].join('\n');
  cleanRunDir(result, false);
  const value = (metric: string) => result.figures.find((f) => f.metric === metric)?.value;
  assert.ok((value('raised') ?? 0) >= CYCLES, `alarms kept coming during the faults\n${summary}`);
  assert.ok(result.faults['kill-edge'] + result.faults['kill-edge-after-puback'] > 0 && result.faults['kill-cloud'] + result.faults['restart-broker'] > 0, `a mix of faults ran: ${JSON.stringify(result.faults)}`);
  assert.equal(value('lost'), 0, `no change lost\n${summary}`);
  assert.equal(value('duplicated'), 0, `no change stored twice\n${summary}`);
  assert.equal(value('out_of_order'), 0, `per-source order and final state kept\n${summary}`);
  assert.ok(result.ok, `every target met\n${summary}`);
});
