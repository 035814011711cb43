// The rehearsal clock at district scale (issue 17): a generated 24-hour day of ≥ 1,000 devices
// (fires, chattering detectors, a fault flood, low battery, no water use; cloud/src/replay/
// generate.ts) played through the real edge rules and cloud incident logic into a scratch PGlite
// database as fast as possible, then the board and KPIs read back — what `gridwatch-cloud replay
// --generate-day` does. Figures:
//   replay_s        wall time from an empty database to the report (target <= 600: "a day in ten minutes")
//   replay_events   alarm events the day sent (computed, for scale)
//   board_items     items the board would have shown (computed)
// Args: [devices=1000] [hours=24] [seed=1].
import { generateDay } from '../cloud/src/replay/generate.ts';
import { runReplay } from '../cloud/src/replay/run.ts';
import { report as reportPlain } from './report.ts';
import { atMost, reportWithTargets } from './support/figures.ts';

const devices = Number(process.argv[2] ?? 1000);
const hours = Number(process.argv[3] ?? 24);
const seed = Number(process.argv[4] ?? 1);

const { script } = generateDay({ devices, hours, seed });
console.error(`replay-day: ${devices} devices, ${hours} h, ${script.steps.length} script steps`);
let last = 0;
const started = performance.now();
const report = await runReplay({
  script,
  onProgress: (p) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    console.error(`replay-day: ${(p.atS / 3600).toFixed(1)} h of the day, step ${p.steps}/${p.total}, ${p.events} events, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  },
});
const replayS = (performance.now() - started) / 1000;
console.error(`replay-day: board ${JSON.stringify(report.board)}; KPIs chattering ${report.kpis.chattering}, ${report.kpis.jurisdictions.length} communities`);
reportPlain('replay-day', [
  { metric: 'replay_events', value: report.script.events, unit: 'events' },
  { metric: 'board_items', value: report.board.items, unit: 'items' },
]);
reportWithTargets('replay-day', [atMost('replay_s', replayS, 's', 600)]);
