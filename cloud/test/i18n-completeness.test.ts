// Every word the console renders has a zh-CN and an en label (issue #13), checked from the sources,
// not from a hand list: each alarm type any profile (or the edge and cloud themselves) can raise,
// each hazard family and lane (GET /api/v1/catalogue), lifecycle statuses and ACTIONS, the audit
// actions the server writes, deadline kinds, jurisdiction tiers, device event actions, every
// literal key the console asks for (console/labels/ui.json, or the older public/i18n.js), and every
// code the server can send (the REASONS and NOTES registry of incidents/reasons.ts, labelled in
// console/labels/codes.json, with the placeholders its parameters fill). Planted gaps — a label
// removed from a copy of either file — show the check fails, by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '@gridwatch/firmware-profiles';
import { AlarmAction } from '@gridwatch/protocol';
import { buildCatalogue, type Catalogue } from '../src/api/routes/catalogue.ts';
import { ACTIONS } from '../src/incidents/lifecycle.ts';
import { NOTES, noteOf, REASONS, reasonOf, serverCodes } from '../src/incidents/reasons.ts';
import { CODE_PARAMS, labelKey, localParams, type ParamKind } from '../src/console/labels/params.ts';
import { NOTIFY_CHANNELS } from '../src/notify/channels/index.ts';
import { TIERS } from '../src/routing/directory.ts';

const LANGS = ['zh-CN', 'en'] as const;
const SRC = join(import.meta.dirname, '..', 'src');
const CONSOLE = join(SRC, 'console');
const LABELS = join(CONSOLE, 'labels');
/** Raised by the edge and cloud themselves, not by a profile rule. */
const SYSTEM_TYPES = ['device_offline', 'gateway_offline', 'gateway_health', 'alarm_flood', 'maintenance_flood'];
/** Console-only states beside the lifecycle's (ISA-18.2 returned, unacknowledged). */
const CONSOLE_STATUSES = ['returned_unack'];
/** Folders whose code writes audit rows. */
const AUDIT_WRITERS = ['incidents', 'supervision', 'notify', 'jobs', 'ingest'];

type Strings = Record<string, Record<string, string>>;

function readJson(path: string): Strings {
  const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return Object.fromEntries(LANGS.map((lang) => [lang, (file[lang] ?? {}) as Record<string, string>]));
}

/** The console's own words: labels/ui.json when the console has moved there, else public/i18n.js. */
function uiStrings(): Strings {
  if (existsSync(join(LABELS, 'ui.json'))) return readJson(join(LABELS, 'ui.json'));
  const window: { GW_I18N?: Strings } = {};
  runInNewContext(readFileSync(join(CONSOLE, 'public', 'i18n.js'), 'utf8'), { window });
  assert.ok(window.GW_I18N, 'i18n.js defines window.GW_I18N');
  return window.GW_I18N;
}

const codeStrings = (): Strings => readJson(join(LABELS, 'codes.json'));

function filesUnder(dir: string, ext: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, ext) : ext.test(name) ? [path] : [];
  });
}

function profileAlarmTypes(): string[] {
  const types = new Set(SYSTEM_TYPES);
  for (const { profile } of loadProfiles(BUNDLED_PROFILES_DIR).profiles.values()) for (const rule of profile.rules) types.add(rule.alarmType);
  return [...types].sort();
}

/** Audit action codes the server writes: every string literal of an `action:` value in a file that calls audit(…). */
function auditActions(): string[] {
  const codes = new Set<string>();
  for (const file of AUDIT_WRITERS.flatMap((d) => filesUnder(join(SRC, d), /\.ts$/))) {
    const source = readFileSync(file, 'utf8');
    if (!/\baudit\(/.test(source)) continue;
    for (const m of source.matchAll(/\baction: ([^,\n}]+)/g)) for (const lit of (m[1] as string).matchAll(/'([a-z_]+)'/g)) codes.add(lit[1] as string);
  }
  return [...codes].sort();
}

function deadlineKinds(): string[] {
  const source = readFileSync(join(SRC, 'incidents', 'lifecycle.ts'), 'utf8');
  const union = /function scheduleDeadline\([^)]*kind: ('[a-z_]+'(?: \| '[a-z_]+')+)/.exec(source);
  assert.ok(union, 'lifecycle.ts declares the deadline kinds');
  return [...(union[1] as string).matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);
}

/** Keys the console asks for literally: `t('…')` in its sources, `data-i18n="…"` in its HTML. */
function literalKeys(): string[] {
  const keys = new Set<string>();
  for (const file of [...filesUnder(join(CONSOLE, 'ui'), /\.tsx?$/), ...filesUnder(join(CONSOLE, 'public'), /\.(js|html)$/)]) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\bt\('([^'$`{}]+)'[,)]/g)) keys.add(m[1] as string);
    for (const m of source.matchAll(/data-i18n="([^"]+)"/g)) keys.add(m[1] as string);
  }
  return [...keys].sort();
}

interface Needs {
  alarmTypes: string[];
  /** UI string key → acceptable keys (an audit action may reuse the action's label). */
  keys: [need: string, ...accepted: string[]][];
  /** codes.json key → the parameter names its label may use as {placeholders}. */
  codes: Map<string, readonly string[]>;
}

function needs(): Needs {
  const statuses = [...buildCatalogue().lifecycle.statuses, ...CONSOLE_STATUSES];
  const keys: Needs['keys'] = [
    ...statuses.map((s): [string] => [`status.${s}`]),
    ...ACTIONS.map((a): [string] => [`action.${a}`]),
    ...[...new Set([...auditActions(), ...ACTIONS])].map((a): [string, string, string] => [`audit.${a}`, `audit.${a}`, `action.${a}`]),
    ...deadlineKinds().map((k): [string] => [`deadline.${k}`]),
    ...TIERS.map((tier): [string] => [`tier.${tier}`]),
    ...AlarmAction.anyOf.map((a): [string] => [`event.${String(a.const)}`]),
    ['event.test'],
    ...literalKeys().map((k): [string] => [k]),
  ];
  const codes = new Map<string, readonly string[]>();
  for (const c of serverCodes()) {
    codes.set(`${c.kind}.${c.code}`, c.params);
    for (const [param, values] of Object.entries(c.values)) for (const v of values) codes.set(`param.${param}.${v}`, []);
    if (c.params.includes('channel')) for (const channel of NOTIFY_CHANNELS) codes.set(`param.channel.${channel.id}`, []);
  }
  return { alarmTypes: profileAlarmTypes(), keys, codes };
}

/** Every missing or broken label, named: `alarm type smoke: en`, `status.resolved: zh-CN`, `reason.flood: en uses {x}`. */
export function missingLabels(catalogue: Catalogue, ui: Strings, codes: Strings, need: Needs): string[] {
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
    for (const lang of LANGS) if (!options.some((k) => ui[lang]?.[k]?.trim())) missing.push(`${key}: ${lang}`);
  }
  for (const [key, params] of need.codes) {
    for (const lang of LANGS) {
      const label = codes[lang]?.[key];
      if (!label?.trim()) {
        missing.push(`${key}: ${lang}`);
        continue;
      }
      for (const m of label.matchAll(/\{\{?(\w+)\}?\}/g)) if (!params.includes(m[1] as string)) missing.push(`${key}: ${lang} uses {${m[1]}}, not a parameter of the code`);
    }
  }
  for (const lang of LANGS) for (const key of Object.keys(codes[lang] ?? {})) if (ui[lang]?.[key] !== undefined) missing.push(`${key}: ${lang} in both ui.json and codes.json`);
  return missing;
}

test('every alarm type, hazard family, lane, status, action, audit code, console key and server code has zh-CN and en labels', () => {
  const need = needs();
  assert.ok(need.alarmTypes.length > 20, `the profiles raise many alarm types (${need.alarmTypes.length})`);
  assert.ok(need.keys.some(([k]) => k === 'audit.escalate'), 'audit actions of the incident engine are checked');
  assert.ok(need.keys.some(([k]) => k === 'audit.correlate') && need.keys.some(([k]) => k === 'audit.notify'), 'audit actions in conditionals and outside incidents/ are found');
  assert.ok(need.keys.some(([k]) => k === 'action.reassign'), 'every lifecycle action is checked');
  assert.ok(need.keys.some(([k]) => k === 'deadline.on_site'), 'deadline kinds are checked');
  assert.ok(need.keys.length > 80, `literal keys of the console are checked (${need.keys.length})`);
  assert.equal(need.codes.size > Object.keys(NOTES).length + Object.keys(REASONS).length, true, 'every registry code and its value labels are checked');
  assert.deepEqual(missingLabels(buildCatalogue(), uiStrings(), codeStrings(), need), []);
});

test('a label removed from a copy of codes.json or ui.json, or a catalogue missing one, fails the check by name', () => {
  const need = needs();
  const ui = uiStrings();
  const codes = codeStrings();
  const planted = buildCatalogue();
  const smoke = planted.alarmTypes.find((t) => t.code === 'smoke');
  assert.ok(smoke);
  smoke.labels = { 'zh-CN': smoke.labels['zh-CN'], en: '' };
  planted.lanes = planted.lanes.filter((l) => l.code !== 'maintenance');
  assert.deepEqual(missingLabels(planted, ui, codes, need).sort(), ['alarm type smoke: en', 'lane maintenance: en', 'lane maintenance: zh-CN']);

  const plantedCodes = structuredClone(codes);
  delete plantedCodes['zh-CN']?.['reason.flood'];
  delete plantedCodes.en?.['audit.deadline_escalated'];
  delete plantedCodes.en?.['param.channel.dingtalk'];
  (plantedCodes['zh-CN'] as Record<string, string>)['audit.routed'] = '已分拨至 {unitNmae}';
  assert.deepEqual(missingLabels(buildCatalogue(), ui, plantedCodes, need).sort(), [
    'audit.deadline_escalated: en',
    'audit.routed: zh-CN uses {unitNmae}, not a parameter of the code',
    'param.channel.dingtalk: en',
    'reason.flood: zh-CN',
  ]);

  const plantedUi = structuredClone(ui);
  delete plantedUi['zh-CN']?.['status.resolved'];
  delete plantedUi.en?.['audit.escalate'];
  (plantedUi.en as Record<string, string>)['reason.text'] = 'clash';
  assert.deepEqual(missingLabels(buildCatalogue(), plantedUi, codes, need).sort(), ['audit.escalate: en', 'reason.text: en in both ui.json and codes.json', 'status.resolved: zh-CN']);
});

test('a code added to the registry without labels is caught: the needs come from reasons.ts, not a list', () => {
  const need = needs();
  for (const code of Object.keys(REASONS)) assert.ok(need.codes.has(`reason.${code}`), code);
  for (const code of Object.keys(NOTES)) assert.ok(need.codes.has(`audit.${code}`), code);
  const withNew = { ...need, codes: new Map([...need.codes, ['audit.brand_new', ['x']] as const]) };
  assert.deepEqual(missingLabels(buildCatalogue(), uiStrings(), codeStrings(), withNew), ['audit.brand_new: zh-CN', 'audit.brand_new: en']);
});

test('the English sentence is rendered from the code and its parameters; the zh-CN label fills from the same parameters', () => {
  const flood = reasonOf('flood', { count: 10, minutes: 10, community: 'FT-C01' });
  assert.equal(flood.reason, '10 or more alarms within 10 minutes in community FT-C01');
  assert.deepEqual(flood.reasonParams, { count: 10, minutes: 10, community: 'FT-C01' });
  const zh = codeStrings()['zh-CN']?.[`reason.${flood.reasonCode}`] ?? '';
  assert.equal(zh.replace(/\{(\w+)\}/g, (_m, p: string) => String(flood.reasonParams[p])), 'FT-C01 社区 10 分钟内 10 起以上告警（告警风暴）');
  assert.equal(noteOf('deadline_top', { deadline: 'ack', tier: 'district' }).note, 'ack deadline missed at district, the top of the ladder');
  for (const [code, spec] of Object.entries(NOTES)) {
    for (const m of spec.en.matchAll(/\{(\w+)\}/g)) assert.ok((spec.params as readonly string[]).includes(m[1] as string), `${code}: English uses {${m[1]}}`);
  }
});

test('rendered as the console does (code-valued parameters through their own labels), no zh-CN label shows a code', () => {
  const ui = uiStrings();
  const codes = codeStrings();
  const catalogue = buildCatalogue();
  const sample: Record<ParamKind, string> = { alarmType: 'smoke', tier: 'grid', deadline: 'on_site', deadlines: 'ack, on_site', event: 'raise', channel: 'dingtalk', result: 'rate_limited' };
  const codeWords = /\b(smoke|grid|on_site|ack|raise|dingtalk|rate_limited)\b/;
  for (const lang of LANGS) {
    const label = (kind: ParamKind, code: string): string => {
      if (kind === 'alarmType') return catalogue.alarmTypes.find((t) => t.code === code)?.labels[lang] ?? code;
      const key = labelKey(kind, code) as string;
      return ui[lang]?.[key] ?? codes[lang]?.[key] ?? code;
    };
    for (const c of serverCodes()) {
      const params = Object.fromEntries(
        c.params.map((p) => {
          const kind = CODE_PARAMS[p];
          return [p, kind ? sample[kind] : p === 'text' ? '' : 7];
        }),
      );
      const shown = (codes[lang]?.[`${c.kind}.${c.code}`] ?? '').replace(/\{(\w+)\}/g, (_m, p: string) => String(localParams(params, label)[p]));
      assert.doesNotMatch(shown, /\{/, `${c.kind}.${c.code} (${lang}) fills every placeholder`);
      if (lang === 'zh-CN') assert.doesNotMatch(shown, codeWords, `${c.kind}.${c.code} (zh-CN) shows a code: ${shown}`);
    }
  }
  // Switched off (raw parameters, as sent): the zh-CN reason of a smoke alarm would read "smoke".
  assert.equal((codes['zh-CN']?.['reason.device_alarm'] ?? '').replace('{alarmType}', 'smoke'), 'smoke');
});
