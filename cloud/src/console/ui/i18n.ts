// One label source (issue #13): the console's own words from labels/ui.json, the codes the server
// sends (reasonCode, audit noteCode) from labels/codes.json (codes helper), alarm types, families
// and lanes from GET /api/v1/catalogue. Rendered with i18next; zh-CN first, en when chosen.
import i18next, { type i18n } from 'i18next';
import { labelKey, localParams, type ParamKind } from '../labels/params.ts';
import type { AuditEntry, Catalogue, Incident, Lang, Params } from './types.ts';

/** labels/*.json: `{ "_format": "…", "zh-CN": { key: text }, "en": { … } }`. */
export type LabelFile = Partial<Record<Lang, Record<string, string>>> & { _format?: string };

const LANGS: readonly Lang[] = ['zh-CN', 'en'];
let instance: i18n | null = null;
let catalogue: Catalogue | null = null;

/** `{param}` (codes.json may use it, see its `_format`) to i18next's `{{param}}`. */
export function toI18next(text: string): string {
  return text.replace(/\{\{(\w+)\}\}|\{(\w+)\}/g, (_m, double: string | undefined, single: string | undefined) => `{{${double ?? single}}}`);
}

function bundle(file: LabelFile | null, lang: Lang): Record<string, string> {
  const table = file?.[lang] ?? {};
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, toI18next(v)]));
}

export function initI18n(ui: LabelFile, codes: LabelFile | null, lang: Lang): i18n {
  const resources = Object.fromEntries(LANGS.map((l) => [l, { ui: bundle(ui, l), codes: bundle(codes, l) }]));
  const next = i18next.createInstance();
  void next.init({
    resources,
    lng: lang,
    fallbackLng: 'en',
    ns: ['ui', 'codes'],
    defaultNS: 'ui',
    keySeparator: false,
    nsSeparator: false,
    initAsync: false,
    showSupportNotice: false,
    // Preact renders text, never HTML: no escaping here (it would show &amp; to staff).
    interpolation: { escapeValue: false },
  });
  instance = next;
  return next;
}

export function setCatalogue(value: Catalogue): void {
  catalogue = value;
}

export function getLang(): Lang {
  return (instance?.language as Lang | undefined) ?? 'zh-CN';
}

export async function setLang(lang: Lang): Promise<void> {
  await instance?.changeLanguage(lang);
}

export function t(key: string, params?: Params): string {
  if (!instance) return key;
  return instance.t(key, { ns: 'ui', ...(params ?? {}) });
}

/** A code-valued parameter (labels/params.ts) as its label: alarm types from the catalogue, the rest from ui.json / codes.json. */
function paramLabel(kind: ParamKind, value: string): string {
  if (kind === 'alarmType') return typeName(value);
  const key = labelKey(kind, value) ?? value;
  for (const ns of ['ui', 'codes']) if (instance?.exists(key, { ns })) return instance.t(key, { ns });
  return value;
}

function code(key: string, params: Params | null | undefined): string | null {
  if (!instance || !instance.exists(key, { ns: 'codes' })) return null;
  return instance.t(key, { ns: 'codes', ...localParams(params ?? {}, paramLabel, getLang() === 'zh-CN' ? '、' : ', ') });
}

const pick = (labels: { 'zh-CN': string; en: string } | undefined, fallback: string): string => (labels ? labels[getLang()] || labels.en : fallback);

export const typeName = (typeCode: string): string => pick(catalogue?.alarmTypes.find((x) => x.code === typeCode)?.labels, typeCode);
export const familyName = (familyCode: string): string => pick(catalogue?.families.find((x) => x.code === familyCode)?.labels, familyCode);

/** The incident's reason in the user's language; the server's English `reason` when no label exists. */
export function reasonText(incident: Pick<Incident, 'reason' | 'reasonCode' | 'reasonParams'>): string {
  return (incident.reasonCode ? code(`reason.${incident.reasonCode}`, incident.reasonParams) : null) ?? incident.reason;
}

/** An audit entry's note: its code's label when the server sent one, else the staffer's own words. */
export function auditNote(entry: Pick<AuditEntry, 'note' | 'noteCode' | 'noteParams'>): string {
  return (entry.noteCode ? code(`audit.${entry.noteCode}`, entry.noteParams) : null) ?? entry.note;
}

/** The audit row's title: the system's routing is a dispatch (分拨); a person's dispatch is an assignment (指派). */
export function auditLabel(entry: Pick<AuditEntry, 'action' | 'actor' | 'source'>): string {
  const system = entry.actor === 'system' || entry.source === 'routing';
  const keys = system ? [`audit.${entry.action}`, `action.${entry.action}`] : [`action.${entry.action}`, `audit.${entry.action}`];
  for (const key of keys) if (instance?.exists(key, { ns: 'ui' })) return t(key);
  return entry.action;
}

/** Who acted, for the audit trail: 系统, a gateway by id, the logged-in staffer by display name, others by login. */
export function actorText(actor: string, me: { username: string; displayName: string } | null, displayName = ''): string {
  if (actor === 'system') return t('system');
  if (displayName) return displayName;
  if (actor.startsWith('gateway:')) return t('actor.gateway', { id: actor.slice('gateway:'.length) });
  if (me && actor === me.username) return me.displayName || me.username;
  return actor;
}

export function hasLabel(key: string): boolean {
  return instance?.exists(key, { ns: 'ui' }) ?? false;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('ago.s', { n: s });
  if (s < 3600) return t('ago.m', { n: Math.floor(s / 60) });
  if (s < 86400) return t('ago.h', { n: Math.floor(s / 3600) });
  return t('ago.d', { n: Math.floor(s / 86400) });
}
