// Who is on duty (值班) at an instant: shifts by ISO weekday and local time, holidays, shifts that
// run past midnight; and a person's quiet hours, which never hold back levels 1–2.
import type { Person, Roster, Shift } from './config.ts';

interface LocalTime {
  date: string;
  weekday: number;
  minutes: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function localTime(at: number, timeZone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${part('year')}-${part('month')}-${part('day')}`, weekday: WEEKDAYS[part('weekday')] ?? 0, minutes: Number(part('hour')) * 60 + Number(part('minute')) };
}

function minutesOf(clock: string): number {
  const [h = '0', m = '0'] = clock.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether `minutes` falls in [from, to), a window past midnight (from > to) included. */
function inWindow(minutes: number, from: string, to: string): 'today' | 'carried' | false {
  const start = minutesOf(from);
  const end = minutesOf(to);
  if (start === end) return 'today';
  if (start < end) return minutes >= start && minutes < end ? 'today' : false;
  if (minutes >= start) return 'today';
  return minutes < end ? 'carried' : false;
}

function shiftCovers(shift: Shift, now: LocalTime, holiday: boolean): boolean {
  if (holiday ? shift.holidays === undefined : shift.holidays === 'only') return false;
  const window = inWindow(now.minutes, shift.from, shift.to);
  if (window === false) return false;
  // The part after midnight belongs to the shift that started the day before.
  const day = window === 'carried' ? ((now.weekday + 5) % 7) + 1 : now.weekday;
  return shift.days.includes(day);
}

export interface OnDuty {
  personId: string;
  role: string;
}

export function onDuty(roster: Roster, at: number, timeZone: string): OnDuty[] {
  const now = localTime(at, timeZone);
  const holiday = roster.holidays.includes(now.date);
  const seen = new Set<string>();
  const out: OnDuty[] = [];
  for (const shift of roster.shifts) {
    if (!shiftCovers(shift, now, holiday)) continue;
    for (const personId of shift.people) {
      const key = `${personId}/${shift.role}`;
      if (!seen.has(key)) out.push({ personId, role: shift.role });
      seen.add(key);
    }
  }
  return out;
}

/** Quiet hours hold a message back, except for levels 1–2 (life safety reaches people always). */
export function quietNow(person: Person, level: number, at: number, timeZone: string): boolean {
  if (!person.quietHours || level <= 2) return false;
  return inWindow(localTime(at, timeZone).minutes, person.quietHours.from, person.quietHours.to) !== false;
}
