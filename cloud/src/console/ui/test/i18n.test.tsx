// Words from the one label source: server codes render from codes.json (either placeholder style),
// a code without a label falls back to the server's English reason, ui.json has both languages.
import { describe, expect, test } from 'vitest';
import ui from '../../labels/ui.json' with { type: 'json' };
import { auditLabel, auditNote, reasonText, setLang, t, toI18next } from '../i18n.ts';
import { setup } from './fixtures.ts';

const CODES = {
  _format: '{param}',
  'zh-CN': { 'reason.smoke_alarm': '烟感报警（{device}）', 'audit.routed': '已分拨至 {{unit}}' },
  en: { 'reason.smoke_alarm': 'Smoke alarm ({device})', 'audit.routed': 'Routed to {{unit}}' },
};

describe('labels', () => {
  test('ui.json: every key in zh-CN and en, no empty label', () => {
    const zh = Object.keys(ui['zh-CN']).sort();
    expect(Object.keys(ui.en).sort()).toEqual(zh);
    for (const lang of ['zh-CN', 'en'] as const) for (const [k, v] of Object.entries(ui[lang])) expect(v.trim(), `${lang} ${k}`).not.toBe('');
  });

  test('{param} and {{param}} both become i18next placeholders', () => {
    expect(toI18next('剩 {t}，{{n}} 条')).toBe('剩 {{t}}，{{n}} 条');
  });

  test('a server code renders in the user language with its parameters', async () => {
    setup('zh-CN', CODES);
    const i = { reason: 'Smoke detector in alarm', reasonCode: 'smoke_alarm', reasonParams: { device: '烟感-01' } };
    expect(reasonText(i)).toBe('烟感报警（烟感-01）');
    expect(auditNote({ note: 'routed to grid-g01', noteCode: 'routed', noteParams: { unit: '网格员 G01' } })).toBe('已分拨至 网格员 G01');
    await setLang('en');
    expect(reasonText(i)).toBe('Smoke alarm (烟感-01)');
  });

  test('a code without a label (or no codes file) falls back to the English reason; a staffer note stays as typed', () => {
    setup('zh-CN', null);
    expect(reasonText({ reason: 'Smoke detector in alarm', reasonCode: 'smoke_alarm', reasonParams: {} })).toBe('Smoke detector in alarm');
    expect(auditNote({ note: '已联系业主', noteCode: null, noteParams: {} })).toBe('已联系业主');
  });

  test('audit titles: the system’s dispatch is 分拨, a person’s is 指派; reassign is 转派', () => {
    setup('zh-CN');
    expect(auditLabel({ action: 'dispatch', actor: 'system', source: 'routing' })).toBe('分拨');
    expect(auditLabel({ action: 'dispatch', actor: 'li.na', source: 'console:1' })).toBe('指派');
    expect(auditLabel({ action: 'reassign', actor: 'li.na', source: 'console:1' })).toBe('转派');
    expect(t('level', { n: 1 })).toBe('1级');
  });
});
