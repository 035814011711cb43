// Every word the console renders has a zh-CN and an en label (issue #13): each alarm type any
// profile (or the edge and cloud themselves) can raise, each hazard family and lane — served by
// GET /api/v1/catalogue — and each code the console turns into words: lifecycle statuses and
// actions (from the lifecycle table), audit actions the incident engine writes, deadline kinds,
// jurisdiction tiers, device event actions, and every literal key console.js and index.html use.
// Planted gaps (a catalogue missing one label, console strings missing one) show the check fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '@gridwatch/firmware-profiles';
import { AlarmAction } from '@gridwatch/protocol';
import { buildCatalogue, type Catalogue } from '../src/api/routes/catalogue.ts';
import { TIERS } from '../src/routing/directory.ts';

const LANGS = ['zh-CN', 'en'] as const;
const SRC = join(import.meta.dirname, '..', 'src');
const PUBLIC = join(SRC, 'console', 'public');
/** Raised by the edge and cloud themselves, not by a profile rule. */
const SYSTEM_TYPES = ['device_offline', 'gateway_offline', 'gateway_health', 'alarm_flood'];
/** Console-only states beside the lifecycle's (ISA-18.2 returned, unacknowledged). */
const CONSOLE_STATUSES = ['returned_unack'];

type Strings = Record<string, Record<string, string>>;

function consoleStrings(): Strings {
  const window: { GW_I18N?: Strings } = {};
  runInNewContext(readFileSync(join(PUBLIC, 'i18n.js'), 'utf8'), { window });
  assert.ok(window.GW_I18N, 'i18n.js defines window.GW_I18N');
  return window.GW_I18N;
}

function profileAlarmTypes(): string[] {
  const types = new Set(SYSTEM_TYPES);
  for (const { profile } of loadProfiles(BUNDLED_PROFILES_DIR).profiles.values()) for (const rule of profile.rules) types.add(rule.alarmType);
  return [...types].sort();
}

/** Audit action codes the incident engine writes (`action: '…'` in cloud/src/incidents). */
function auditActions(): string[] {
  const dir = join(SRC, 'incidents');
  const codes = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\baction: '([a-z_]+)'/g)) codes.add(m[1] as string);
  }
  return [...codes].sort();
}

function deadlineKinds(): string[] {
  const source = readFileSync(join(SRC, 'incidents', 'lifecycle.ts'), 'utf8');
  const union = /function scheduleDeadline\([^)]*kind: ('[a-z_]+'(?: \| '[a-z_]+')+)/.exec(source);
  assert.ok(union, 'lifecycle.ts declares the deadline kinds');
  return [...(union[1] as string).matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);
}

/** Keys console.js asks for literally (`t('…')`) and index.html names (`data-i18n="…"`). */
function literalKeys(): string[] {
  const js = readFileSync(join(PUBLIC, 'console.js'), 'utf8');
  const html = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
  const keys = new Set<string>();
  for (const m of js.matchAll(/\bt\('([^']+)'[,)]/g)) keys.add(m[1] as string);
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) keys.add(m[1] as string);
  return [...keys].sort();
}

interface Needs {
  alarmTypes: string[];
  /** Console string key → acceptable keys (an audit action may reuse the action's label). */
  keys: [need: string, ...accepted: string[]][];
}

function needs(): Needs {
  const catalogue = buildCatalogue();
  const statuses = [...catalogue.lifecycle.statuses, ...CONSOLE_STATUSES];
  const actions = catalogue.lifecycle.actions.map((a) => a.action);
  const keys: Needs['keys'] = [
    ...statuses.map((s): [string] => [`status.${s}`]),
    ...actions.map((a): [string] => [`action.${a}`]),
    ...auditActions().map((a): [string, string, string] => [`audit.${a}`, `audit.${a}`, `action.${a}`]),
    ...deadlineKinds().map((k): [string] => [`deadline.${k}`]),
    ...TIERS.map((tier): [string] => [`tier.${tier}`]),
    ...AlarmAction.anyOf.map((a): [string] => [`event.${String(a.const)}`]),
    ['event.test'],
    ...literalKeys().map((k): [string] => [k]),
  ];
  return { alarmTypes: profileAlarmTypes(), keys };
}

/** Every missing label, named: `alarm type smoke: en`, `status.resolved: zh-CN`. */
export function missingLabels(catalogue: Catalogue, strings: Strings, need: Needs): string[] {
  const missing: string[] = [];
  const byType = new Map(catalogue.alarmTypes.map((t) => [t.code, t]));
  const byFamily = new Map(catalogue.families.map((f) => [f.code, f]));
  const byLane = new Map(catalogue.lanes.map((l) => [l.code, l]));
  const check = (what: string, labels: Record<string, string> | undefined): void => {
    for (const lang of LANGS) if (!labels?.[lang]?.trim()) missing.push(`${what}: ${lang}`);
  };
  for (const code of need.alarmTypes) check(`alarm type ${code}`, byType.get(code)?.labels);
  const families = new Set([...catalogue.alarmTypes.map((t) => t.family), ...byFamily.keys()]);
  for (const code of families) check(`hazard family ${code}`, byFamily.get(code)?.labels);
  const lanes = new Set([...catalogue.families.map((f) => f.lane), ...byLane.keys()]);
  for (const code of lanes) check(`lane ${code}`, byLane.get(code)?.labels);
  for (const [key, ...accepted] of need.keys) {
    const options = accepted.length ? accepted : [key];
    for (const lang of LANGS) if (!options.some((k) => strings[lang]?.[k]?.trim())) missing.push(`${key}: ${lang}`);
  }
  return missing;
}

test('every alarm type, hazard family, lane, status, action and console code has zh-CN and en labels', () => {
  const need = needs();
  assert.ok(need.alarmTypes.length > 20, `the profiles raise many alarm types (${need.alarmTypes.length})`);
  assert.ok(need.keys.some(([k]) => k === 'audit.escalate'), 'audit actions of the incident engine are checked');
  assert.ok(need.keys.some(([k]) => k === 'deadline.on_site'), 'deadline kinds are checked');
  assert.ok(need.keys.some(([k]) => k === 'conn.online'), 'literal keys of console.js are checked');
  assert.deepEqual(missingLabels(buildCatalogue(), consoleStrings(), need), []);
});

test('a catalogue missing one label, or console strings missing one, fail the check by name', () => {
  const need = needs();
  const strings = consoleStrings();
  const planted = buildCatalogue();
  const smoke = planted.alarmTypes.find((t) => t.code === 'smoke');
  assert.ok(smoke);
  smoke.labels = { 'zh-CN': smoke.labels['zh-CN'], en: '' };
  const fire = planted.families.find((f) => f.code === 'fire');
  assert.ok(fire);
  fire.labels = { 'zh-CN': '', en: fire.labels.en };
  planted.lanes = planted.lanes.filter((l) => l.code !== 'maintenance');
  planted.alarmTypes = planted.alarmTypes.filter((t) => t.code !== 'welfare_check');
  assert.deepEqual(missingLabels(planted, strings, need).sort(), [
    'alarm type smoke: en',
    'alarm type welfare_check: en',
    'alarm type welfare_check: zh-CN',
    'hazard family fire: zh-CN',
    'lane maintenance: en',
    'lane maintenance: zh-CN',
  ]);

  const plantedStrings = structuredClone(strings);
  delete plantedStrings['zh-CN']?.['status.resolved'];
  delete plantedStrings.en?.['audit.escalate'];
  assert.deepEqual(missingLabels(buildCatalogue(), plantedStrings, need).sort(), ['audit.escalate: en', 'status.resolved: zh-CN']);
});

test('the console takes alarm-type words and the lifecycle table from the server, not from its own files', () => {
  const js = readFileSync(join(PUBLIC, 'console.js'), 'utf8');
  const strings = consoleStrings();
  for (const lang of LANGS) assert.deepEqual(Object.keys(strings[lang] ?? {}).filter((k) => k.startsWith('type.') || k.startsWith('family.') || k.startsWith('lane.')), [], lang);
  assert.doesNotMatch(js, /ACTIONS_FROM|\bfrom: \[/, 'no lifecycle table in console.js');
  assert.match(js, /\/api\/v1\/catalogue/);
  assert.match(js, /'gw\.lang'\) \|\| 'zh-CN'/, 'zh-CN unless the user chose otherwise');
});
