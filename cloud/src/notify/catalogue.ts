// The words of notification messages, per language (zh-CN first). Alarm-type names come from the
// alarm-type catalogue (firmware-profiles/alarm-types.yaml), not from here (one source per fact).
export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export interface Words {
  level(level: number): string;
  title(level: string, type: string): string;
  unknownPlace: string;
  unit(name: string): string;
  deadline(minutes: number, clock: string): string;
  actions: string;
}

const ZH_LEVELS = ['一', '二', '三', '四', '五'];

export const WORDS: Record<Lang, Words> = {
  'zh-CN': {
    level: (level) => `${ZH_LEVELS[Math.min(5, Math.max(1, level)) - 1]}级`,
    title: (level, type) => `【${level}告警】${type}`,
    unknownPlace: '未登记地址',
    unit: (name) => `责任单位：${name}`,
    deadline: (minutes, clock) => `请在${minutes}分钟内（${clock}前）确认`,
    actions: '确认 / 到场 / 误报',
  },
  en: {
    level: (level) => `Level ${Math.min(5, Math.max(1, level))}`,
    title: (level, type) => `[${level} alarm] ${type}`,
    unknownPlace: 'address not on record',
    unit: (name) => `Responsible unit: ${name}`,
    deadline: (minutes, clock) => `Acknowledge within ${minutes} min (by ${clock})`,
    actions: 'Acknowledge / On site / False alarm',
  },
};
