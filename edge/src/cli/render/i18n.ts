// Words of the installer's documents (commissioning report, `device show`, `read`) in zh-CN and
// en. Units are the firmware-profiles unit names, shown as their symbols.
import type { Unit } from '@gridwatch/firmware-profiles';

export const LANGS = ['en', 'zh-CN'] as const;
export type Lang = (typeof LANGS)[number];

const UNIT_SYMBOLS: Record<Unit, { en: string; 'zh-CN'?: string }> = {
  none: { en: '' },
  percent: { en: '%' },
  db_per_m: { en: 'dB/m' },
  ppm: { en: 'ppm' },
  percent_lel: { en: '%LEL' },
  celsius: { en: '°C' },
  volt: { en: 'V' },
  milliampere: { en: 'mA' },
  ampere: { en: 'A' },
  kilopascal: { en: 'kPa' },
  megapascal: { en: 'MPa' },
  metre: { en: 'm' },
  cubic_metre: { en: 'm³' },
  cubic_metre_per_hour: { en: 'm³/h' },
  litre_per_minute: { en: 'L/min' },
  beats_per_minute: { en: 'bpm', 'zh-CN': '次/分' },
  degree: { en: '°' },
  second: { en: 's', 'zh-CN': '秒' },
  hour: { en: 'h', 'zh-CN': '小时' },
  count: { en: '', 'zh-CN': '次' },
  dbm: { en: 'dBm' },
};

export function unitSymbol(unit: string, lang: Lang): string {
  const symbols = UNIT_SYMBOLS[unit as Unit];
  return symbols ? (symbols[lang] ?? symbols.en) : unit;
}

/** A value with its unit: `50 %LEL`, `0.21 dB/m`, `true`. */
export function withUnit(value: unknown, unit: string | undefined, lang: Lang): string {
  const symbol = unit === undefined ? '' : unitSymbol(unit, lang);
  return symbol === '' || typeof value !== 'number' ? String(value) : `${value} ${symbol}`;
}

/** Seconds as people say them: `45 s`, `30 min`, `12 h`; `45 秒`, `30 分钟`, `12 小时`. */
export function duration(seconds: number, lang: Lang): string {
  const [value, unit] = seconds >= 3600 && seconds % 3600 === 0 ? [seconds / 3600, 'h'] : seconds >= 60 && seconds % 60 === 0 ? [seconds / 60, 'min'] : [seconds, 's'];
  if (lang === 'en') return `${value} ${unit}`;
  return `${value} ${{ h: '小时', min: '分钟', s: '秒' }[unit]}`;
}

export interface ReportWords {
  title: (gateway: string, site: string) => string;
  generated: (at: string) => string;
  columns: [device: string, profile: string, connection: string, address: string, roundTrip: string, routedTo: string, result: string];
  result: { pass: string; fail: string; 'not tested': string };
  rules: string;
  readBack: string;
  level: (level: number) => string;
  none: string;
}

export const REPORT_WORDS: Record<Lang, ReportWords> = {
  en: {
    title: (gateway, site) => `Commissioning report — gateway ${gateway} (${site})`,
    generated: (at) => `Generated ${at}.`,
    columns: ['Device', 'Profile', 'Connection', 'Address', 'Round trip', 'Routed to', 'Result'],
    result: { pass: 'PASS', fail: 'FAIL', 'not tested': 'NOT TESTED' },
    rules: 'Rules in force',
    readBack: 'Read-back values',
    level: (level) => `L${level}`,
    none: '—',
  },
  'zh-CN': {
    title: (gateway, site) => `调试报告 — 网关 ${gateway}（${site}）`,
    generated: (at) => `生成时间 ${at}。`,
    columns: ['设备', '型号配置', '连接', '地址', '往返时间', '分拨至', '结果'],
    result: { pass: '通过', fail: '未通过', 'not tested': '未测试' },
    rules: '生效规则',
    readBack: '回读数值',
    level: (level) => `${level}级`,
    none: '—',
  },
};

/** The language when `--lang` is not given: env GRIDWATCH_LANG when it names one, else en. */
export function defaultLang(): Lang {
  const env = process.env.GRIDWATCH_LANG;
  return (LANGS as readonly string[]).includes(env ?? '') ? (env as Lang) : 'en';
}
