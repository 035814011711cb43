// `npm run soak -- --cycles N [--seed S]`: the fault suite run like a benchmark (test/soak/).
// Progress on stderr; the figures are the last lines of stdout, one JSON object each, in the bench
// format plus target and met. Exits 1 when a target is not met, 2 on a usage error.
import { randomInt } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { Resources, cleanRunDir, runSoak } from '../test/soak/soak.ts';

const int = (min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
  return n;
};

const program = new Command('soak')
  .description('GridWatch fault soak: random SIGKILLs, broker restarts, cut and black-holed links while detectors raise and clear alarms')
  .option('--cycles <n>', 'fault cycles', int(1, 1_000_000), 20)
  .option('--seed <n>', 'PRNG seed (default: random, printed)', int(0, 0xffffffff))
  .option('--edges <n>', 'edge agents', int(1, 16), 2)
  .option('--mqtt <n>', 'MQTT smoke detectors per edge', int(1, 50), 3)
  .option('--modbus <n>', 'Modbus smoke detectors per edge', int(0, 50), 3)
  .option('--pause-ms <min,max>', 'pause before each fault', '300,1500')
  .option('--drain-timeout-s <s>', 'how long the drain may take', int(1, 3600), 60)
  .option('--keep', 'keep the run folder (logs) even when every target is met', false)
  .parse();

const flags = program.opts<{ cycles: number; seed?: number; edges: number; mqtt: number; modbus: number; pauseMs: string; drainTimeoutS: number; keep: boolean }>();
const pause = flags.pauseMs.split(',').map(Number);
if (pause.length !== 2 || pause.some((n) => !Number.isInteger(n) || n < 0) || pause[0]! > pause[1]!) {
  program.error('--pause-ms: expected min,max in ms, e.g. 300,1500', { exitCode: 2 });
}

const resources = new Resources();
let interrupted = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`soak: ${signal}, stopping everything it started\n`);
  void resources.release().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const result = await runSoak(
  {
    cycles: flags.cycles,
    seed: flags.seed ?? randomInt(0, 0xffffffff),
    edges: flags.edges,
    mqttDevicesPerEdge: flags.mqtt,
    modbusDevicesPerEdge: flags.modbus,
    pauseMs: [pause[0]!, pause[1]!],
    drainTimeoutS: flags.drainTimeoutS,
    log: (line) => process.stderr.write(`${line}\n`),
  },
  resources,
).catch((err: unknown) => {
  // A process that would not start or a peer that went away: no figures, the reason, exit 1.
  process.stderr.write(`soak: aborted: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
process.stderr.write(`soak: faults ${JSON.stringify(result.faults)}\n`);
for (const p of result.problems.slice(0, 50)) process.stderr.write(`problem: ${p}\n`);
if (result.problems.length > 50) process.stderr.write(`… ${result.problems.length - 50} more in ${result.dir}/problems.txt\n`);
if (!result.ok) process.stderr.write(`soak: targets not met; logs kept in ${result.dir}\n`);
cleanRunDir(result, flags.keep);
for (const f of result.figures) process.stdout.write(`${JSON.stringify(f)}\n`);
process.exit(result.ok ? 0 : 1);
