// `gridwatch-cloud replay [script]`: plays a scripted or recorded day (test/cases script.json, or
// NDJSON of timed steps) through the real edge rules and cloud incident logic into a scratch
// database and prints the board and KPIs; `--generate-day` writes or plays a generated day.
// Registered by main.ts; the heavy modules (edge rules, PGlite) load only when it runs.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Directory } from './script.ts';

type Flags = Record<string, unknown>;

const number = (flags: Flags, key: string, fallback: number): number => {
  const value = flags[key] === undefined ? fallback : Number(flags[key]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`replay: --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number >= 0`);
  return value;
};

function progressPrinter(): (p: { steps: number; total: number; events: number; atS: number }) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 2000 && p.steps !== p.total) return;
    last = now;
    const hh = `${Math.floor(p.atS / 3600)}`.padStart(2, '0');
    const mm = `${Math.floor((p.atS % 3600) / 60)}`.padStart(2, '0');
    process.stderr.write(`replay: ${hh}:${mm} of the day, step ${p.steps}/${p.total}, ${p.events} events\n`);
  };
}

/** The address book (and optionally units and routing rules) from CSV files, for scripts that carry none. */
function directoryFrom(flags: Flags): Directory | undefined {
  if (typeof flags.addresses !== 'string') return undefined;
  const read = (key: string): string | undefined => (typeof flags[key] === 'string' ? readFileSync(flags[key], 'utf8') : undefined);
  const units = read('units');
  const rules = read('rules');
  return { addresses: read('addresses') as string, ...(units ? { units } : {}), ...(rules ? { rules } : {}) };
}

async function replayAction(file: string | undefined, flags: Flags): Promise<void> {
  const { parseScript } = await import('./script.ts');
  const { generateDay } = await import('./generate.ts');
  let script;
  if (flags.generateDay) {
    script = generateDay({ devices: number(flags, 'devices', 1000), hours: number(flags, 'hours', 24), seed: number(flags, 'seed', 1) }).script;
    if (typeof flags.out === 'string') {
      writeFileSync(flags.out, `${JSON.stringify(script)}\n`);
      process.stderr.write(`replay: generated day written to ${flags.out}\n`);
      return;
    }
  } else if (file) script = parseScript(readFileSync(file, 'utf8'), file);
  else throw new Error('replay: give a script file (script.json or NDJSON) or --generate-day');
  const { runReplay } = await import('./run.ts');
  const { renderReport } = await import('./board.ts');
  const directory = directoryFrom(flags);
  const started = Date.now();
  const report = await runReplay({
    script,
    ...(flags.alarmPolicy === undefined ? {} : { alarmPolicy: flags.alarmPolicy }),
    ...(directory ? { directory } : {}),
    ...(typeof flags.dataDir === 'string' ? { dataDir: flags.dataDir } : {}),
    ...(typeof flags.start === 'string' ? { startMs: Date.parse(flags.start) } : {}),
    speed: number(flags, 'speed', 0),
    onProgress: progressPrinter(),
  });
  process.stderr.write(`replay: played in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : renderReport(report));
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay [script]')
    .description('play a scripted or recorded day through the real edge rules and incident logic into a scratch database; print the board and KPIs (docs/ALARM-MANAGEMENT.md)')
    .option('--alarm-policy <json|file>', 'alarm policy to try (replaces the script\'s own)')
    .option('--speed <n>', 'N× real time (0 = as fast as possible)', '0')
    .option('--start <iso>', 'wall time of second 0 of the script (default 2026-12-01T00:00:00Z)')
    .option('--data-dir <dir>', 'scratch PGlite folder (default memory://)')
    .option('--addresses <csv>', 'address book CSV when the script carries none')
    .option('--units <csv>', 'units CSV (with --addresses)')
    .option('--rules <csv>', 'routing rules CSV (with --addresses)')
    .option('--json', 'print the report as JSON')
    .option('--generate-day', 'generate a day of noise (fires, chattering, a fault flood, low battery, no water use)')
    .option('--devices <n>', 'devices of the generated day', '1000')
    .option('--hours <n>', 'hours of the generated day', '24')
    .option('--seed <n>', 'seed of the generated day', '1')
    .option('--out <file>', 'write the generated day there instead of playing it')
    .action((file: string | undefined, flags: Flags) => replayAction(file, flags));
}
