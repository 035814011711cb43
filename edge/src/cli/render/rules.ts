// Every rule's actual condition in words, with the point's unit: what raises it, what clears it,
// its delays. One sentence per rule kind and language; a kind without a sentence fails to compile.
import type { Profile, Rule } from '@gridwatch/firmware-profiles';
import { duration, REPORT_WORDS, withUnit, type Lang } from './i18n.ts';

type Sentences = { [K in Rule['kind']]: (rule: Extract<Rule, { kind: K }>, v: (value: number) => string, lang: Lang, heartbeatSeconds: number) => string };

const EN: Sentences = {
  state: (r) => `raise while ${r.point} is ${String(r.whenValue ?? true)}`,
  threshold: (r, v) => {
    const back = r.op === '>=' ? (r.limit - (r.deadband ?? 0)) : r.limit + (r.deadband ?? 0);
    return `raise when ${r.point} ${r.op === '>=' ? '≥' : '≤'} ${v(r.limit)}; clear when ${r.op === '>=' ? 'below' : 'above'} ${v(back)} (deadband ${v(r.deadband ?? 0)})`;
  },
  rate: (r, v, lang) => `raise when ${r.point} ${r.direction === 'rise' ? 'rises' : 'falls'} by ${v(r.delta)} or more within ${duration(r.windowSeconds, lang)}`,
  inactivity: (r, v, lang) => `raise when ${r.point} advances by less than ${v(r.minDelta)} within ${duration(r.windowSeconds, lang)}`,
  continuous: (r, v, lang) => `raise when ${r.point} is above ${v(r.above)} in every ${duration(r.slotSeconds, lang)} slot for ${duration(r.windowSeconds, lang)}`,
  heartbeat: (r, _v, lang, hb) => `raise when no report came for ${r.missed ?? 3} heartbeats (${r.missed ?? 3} × ${duration(hb, lang)} = ${duration((r.missed ?? 3) * hb, lang)})`,
  combination: (r) => `raise while all of ${r.all.join(', ')} are active`,
};

const ZH: Sentences = {
  state: (r) => `当 ${r.point} 为 ${String(r.whenValue ?? true)} 时告警`,
  threshold: (r, v) => {
    const back = r.op === '>=' ? r.limit - (r.deadband ?? 0) : r.limit + (r.deadband ?? 0);
    return `当 ${r.point} ${r.op === '>=' ? '≥' : '≤'} ${v(r.limit)} 时告警；${r.op === '>=' ? '低于' : '高于'} ${v(back)} 时恢复（回差 ${v(r.deadband ?? 0)}）`;
  },
  rate: (r, v, lang) => `当 ${r.point} 在 ${duration(r.windowSeconds, lang)} 内${r.direction === 'rise' ? '上升' : '下降'} ${v(r.delta)} 及以上时告警`,
  inactivity: (r, v, lang) => `当 ${r.point} 在 ${duration(r.windowSeconds, lang)} 内增加少于 ${v(r.minDelta)} 时告警`,
  continuous: (r, v, lang) => `当 ${r.point} 在 ${duration(r.windowSeconds, lang)} 内每个 ${duration(r.slotSeconds, lang)} 时段都高于 ${v(r.above)} 时告警`,
  heartbeat: (r, _v, lang, hb) => `连续 ${r.missed ?? 3} 次心跳（${r.missed ?? 3} × ${duration(hb, lang)} = ${duration((r.missed ?? 3) * hb, lang)}）未收到上报时告警`,
  combination: (r) => `当 ${r.all.join('、')} 同时处于告警状态时告警`,
};

function delays(rule: Rule, lang: Lang): string[] {
  const out: string[] = [];
  if (rule.onDelaySeconds) out.push(lang === 'en' ? `on-delay ${duration(rule.onDelaySeconds, lang)}` : `延时告警 ${duration(rule.onDelaySeconds, lang)}`);
  if (rule.offDelaySeconds) out.push(lang === 'en' ? `off-delay ${duration(rule.offDelaySeconds, lang)}` : `延时恢复 ${duration(rule.offDelaySeconds, lang)}`);
  if (rule.latching) out.push(lang === 'en' ? 'latching: clears only after a reset' : '锁存：复位后才恢复');
  return out;
}

/** `gas_high (L1): raise when gas_concentration ≥ 50 %LEL; clear when below 47 %LEL (deadband 3 %LEL); on-delay 5 s`. */
export function describeRule(profile: Profile, rule: Rule, lang: Lang): string {
  const point = 'point' in rule ? profile.points.find((p) => p.name === rule.point) : undefined;
  const v = (value: number): string => withUnit(value, point?.unit, lang);
  const sentence = (lang === 'en' ? EN : ZH)[rule.kind] as (r: Rule, v: (value: number) => string, lang: Lang, hb: number) => string;
  const parts = [sentence(rule, v, lang, profile.heartbeatSeconds), ...delays(rule, lang)];
  return `${rule.alarmType} (${REPORT_WORDS[lang].level(rule.level)}): ${parts.join(lang === 'en' ? '; ' : '；')}`;
}
