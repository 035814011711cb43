// `gridwatch-cloud replay` (issue 17, rehearsal clock): a generated day of 100 devices over 4 hours
// played through the real edge rules and cloud incident logic into a scratch PGlite; the board
// and KPIs it reports must show the managed noise — each chattering detector one flagged item,
// the fault flood one notice, KPIs that agree with the board — and a policy change must change
// the outcome. The CLI itself is run once (JSON on stdout, progress on stderr).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listIncidents } from '../src/incidents/incident.ts';
import { generateDay } from '../src/replay/generate.ts';
import { playScript } from '../src/replay/play.ts';
import { runReplay } from '../src/replay/run.ts';
import { parseScript, type Script } from '../src/replay/script.ts';
import type { ReplayReport } from '../src/replay/board.ts';

const DAY = { devices: 100, hours: 4, seed: 1 };

test('a generated day: chattering detectors and the flood are one board item each; KPIs agree with the board', async () => {
  const { script, plan } = generateDay(DAY);
  const report = await runReplay({ script });
  assert.deepEqual(report.rejectedEvents, []);
  assert.ok(report.script.events > 200, `events ${report.script.events}`);
  // Chattering: every planted detector (the edge one included) is one item, flagged.
  assert.equal(report.board.chattering, plan.chattering.length);
  assert.equal(report.kpis.chattering, plan.chattering.length);
  // The flood: one notice; its members are off the board.
  assert.equal(report.board.floods, 1);
  // Fires: each pair of detectors in a building correlates into one item; plus the chattering ones.
  assert.equal(report.board.byType.smoke, plan.fires.length + plan.chattering.length);
  // KPIs agree with the board: items per community sum to the board's items.
  const kpiItems = report.kpis.jurisdictions.reduce((sum, j) => sum + j.items, 0);
  assert.equal(kpiItems, report.board.items);
  assert.ok(report.kpis.jurisdictions.some((j) => j.floodPercent > 0), 'a community spent time in flood');
  // The noisiest sources are the chattering detectors.
  assert.ok(plan.chattering.includes(report.kpis.topSources[0]?.deviceId ?? ''), `top source ${JSON.stringify(report.kpis.topSources[0])}`);
  const lanes = Object.values(report.board.byLane).reduce((a, b) => a + b, 0);
  assert.equal(lanes, report.board.items);
});

test('the board per incident: one item per chattering source and no flood member on the board', async () => {
  const { script, plan } = generateDay(DAY);
  const { PgliteStore } = await import('../src/store/pglite.ts');
  const { migrate } = await import('../src/store/migrate.ts');
  const { GatewayRegistry } = await import('../src/gateways/registry.ts');
  const { DEFAULT_ENGINE } = await import('../src/incidents/apply.ts');
  const { importDirectory } = await import('../src/replay/play.ts');
  const store = await PgliteStore.open('memory://');
  try {
    await migrate(store);
    const gateway = { gatewayId: 'gw-replay-test', site: 'replay' };
    await new GatewayRegistry(store).addGateway({ ...gateway, secret: 'replay-test-secret' });
    await importDirectory(store, script.directory!);
    await playScript(store, script, { gateway, engine: DEFAULT_ENGINE, startMs: Date.UTC(2026, 11, 1), speed: 0 });
    const board = await listIncidents(store, { board: true, limit: 10_000 });
    for (const device of plan.chattering) {
      const items = board.filter((i) => i.deviceId === device && i.alarmType === 'smoke');
      assert.equal(items.length, 1, `${device}: board items ${items.length}`);
      assert.equal(items[0]?.chattering, true, `${device} flagged chattering`);
    }
    assert.equal(board.filter((i) => plan.floodDevices.includes(i.deviceId)).length, 0, 'flood members folded');
    const notice = board.find((i) => i.kind === 'flood');
    assert.equal(notice?.community, plan.floodCommunity);
    assert.ok((notice?.memberCount ?? 0) >= plan.floodDevices.length, `members ${notice?.memberCount}`);
  } finally {
    await store.close();
  }
});

test('a policy change rehearsed: a flood threshold out of reach leaves every fault on the board', async () => {
  const { script, plan } = generateDay(DAY);
  const managed = await runReplay({ script });
  const unmanaged = await runReplay({ script, alarmPolicy: { version: 1, defaults: { flood: { count: 1000 } } } });
  assert.equal(managed.board.floods, 1);
  assert.equal(unmanaged.board.floods, 0);
  assert.ok(unmanaged.board.items >= managed.board.items - 1 + plan.floodDevices.length, `board ${unmanaged.board.items} vs ${managed.board.items}`);
});

test('NDJSON of timed steps parses like the JSON script; bad lines are named', () => {
  const json: Script = { steps: [{ at: 5, device: 'd1', type: 'fault', action: 'raise', level: 3 }], end: 10 };
  const ndjson = `{"script":{"end":10}}\n{"at":5,"device":"d1","type":"fault","action":"raise","level":3}\n`;
  assert.deepEqual(parseScript(ndjson, 'day.ndjson'), parseScript(JSON.stringify(json), 'day.json'));
  assert.throws(() => parseScript('{"at":1}\nnot json\n', 'day.ndjson'), /day\.ndjson:2: not JSON/);
});

test('the CLI: replay --generate-day --json prints the report on stdout and progress on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-replay-'));
  try {
    const out = join(dir, 'day.json');
    const main = new URL('../src/main.ts', import.meta.url).pathname;
    const args = ['--import', 'tsx', main, 'replay', '--generate-day', '--devices', '30', '--hours', '1', '--seed', '2'];
    const gen = spawnSync(process.execPath, [...args, '--out', out], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ version: 1, defaults: { flood: { count: 5 } } }));
    const run = spawnSync(process.execPath, ['--import', 'tsx', main, 'replay', out, '--json', '--alarm-policy', policy], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /replay: .* step \d+\/\d+/);
    const report = JSON.parse(run.stdout) as ReplayReport;
    assert.ok(report.script.events > 0);
    assert.equal(typeof report.kpis.chattering, 'number');
    const table = spawnSync(process.execPath, ['--import', 'tsx', main, 'replay', out], { encoding: 'utf8' });
    assert.match(table.stdout, /看板 board +items \d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a test/cases day replays to the board its scenario expects (30 faults → one flood notice, closed after the quiet time)', async () => {
  const slug = 'flood-30-faults-in-3-minutes-is-one-board-item-that-closes';
  const text = readFileSync(new URL(`../../test/cases/${slug}/script.json`, import.meta.url), 'utf8');
  const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  const report = await runReplay({ script: parseScript(text, slug), directory: { addresses: fixture('addresses.csv'), units: fixture('units.csv'), rules: fixture('rules.csv') } });
  assert.deepEqual(report.rejectedEvents, []);
  assert.equal(report.script.events, 30);
  assert.deepEqual({ items: report.board.items, open: report.board.open, floods: report.board.floods, incidents: report.board.incidents }, { items: 1, open: 0, floods: 1, incidents: 31 });
  assert.equal(report.kpis.topSources.length, 10);
});
