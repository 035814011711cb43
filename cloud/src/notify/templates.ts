// Renders one incident into the message every channel sends: a plain text (SMS-sized, e-mail),
// a markdown variant (chat robots) and named params for the vendors' approved SMS/voice templates.
// Each carries the readable address and place, the level, the acknowledge deadline and the link.
import { alarmTypes } from '@gridwatch/firmware-profiles';
import type { NotifyMessage } from './channel.ts';
import { WORDS, type Lang } from './catalogue.ts';

export interface IncidentFacts {
  id: number;
  alarmType: string;
  level: number;
  addressText: string | null;
  placeName: string | null;
  unitName: string | null;
}

export interface RenderInput {
  incident: IncidentFacts;
  lang: Lang;
  key: string;
  link: string | null;
  /** When the acknowledge deadline falls (epoch ms), or null without one. */
  deadlineAt: number | null;
  now: number;
  /** Time zone the deadline's clock time is written in. */
  timeZone: string;
}

function typeName(alarmType: string, lang: Lang): string {
  return alarmTypes().types.get(alarmType)?.labels[lang] ?? alarmType;
}

function clockTime(at: number, lang: Lang, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hour12: false, timeZone }).format(at);
}

export function renderMessage(input: RenderInput): NotifyMessage {
  const { incident, lang, link } = input;
  const words = WORDS[lang];
  const level = words.level(incident.level);
  const type = typeName(incident.alarmType, lang);
  const place = [incident.addressText ?? words.unknownPlace, incident.placeName].filter(Boolean).join(' ');
  const minutes = input.deadlineAt === null ? null : Math.max(1, Math.ceil((input.deadlineAt - input.now) / 60_000));
  const deadline = input.deadlineAt === null || minutes === null ? '' : words.deadline(minutes, clockTime(input.deadlineAt, lang, input.timeZone));
  const unit = incident.unitName ? words.unit(incident.unitName) : '';
  const title = words.title(level, type);
  const text = [title, place, unit, deadline, link ?? ''].filter(Boolean).join(lang === 'zh-CN' ? '，' : ', ');
  const markdown = [`**${title}**`, `> ${place}`, unit, deadline, link ? `[${words.actions}](${link})` : ''].filter(Boolean).join('\n\n');
  return {
    key: input.key,
    incidentId: incident.id,
    level: incident.level,
    title,
    text,
    markdown,
    link,
    params: {
      level,
      type,
      address: incident.addressText ?? words.unknownPlace,
      place: incident.placeName ?? incident.addressText ?? words.unknownPlace,
      unit: incident.unitName ?? '',
      deadline: minutes === null ? '' : String(minutes),
      link: link ?? '',
    },
  };
}
