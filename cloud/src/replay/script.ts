// The replay's input (issue 17, rehearsal clock): the scripted-day format of test/cases/<slug>/
// script.json (reports with times in seconds from the day's start, `toggle`/`burst` generators,
// device reports through the edge rules), or NDJSON with one timed step per line. Steps are
// expanded into one time-ordered list; checkpoints (`expect`) are the scenario runner's and are
// ignored here.
import type { ReadingValue } from '@gridwatch/protocol';

export interface ScriptedEvent {
  at: number;
  device: string;
  type: string;
  action: 'raise' | 'clear';
  level: number;
  address?: string;
  chattering?: boolean;
}
/** Raise/clear alternating every `period` s from `from` until `until`. */
export interface ToggleStep {
  toggle: { device: string; type: string; level: number; address?: string; period: number; from: number; until: number };
}
/** `count` devices `<prefix><n>` raising one after another every `every` s from `from`. */
export interface BurstStep {
  burst: { prefix: string; type: string; level: number; addresses: string[]; count: number; from: number; every: number };
}
/** A device report through the edge rules: readings by point name. */
export interface DeviceReportStep {
  at: number;
  report: { device: string; readings: Record<string, ReadingValue> };
}
/** Reports alternating `point` true/false every `period` s. */
export interface ToggleReportStep {
  toggleReport: { device: string; point: string; period: number; from: number; until: number };
}
export interface CheckpointStep {
  at: number;
  expect: unknown;
}
export type Step = ScriptedEvent | ToggleStep | BurstStep | DeviceReportStep | ToggleReportStep | CheckpointStep;
export type TimedStep = ScriptedEvent | DeviceReportStep;

export interface EdgeDevice {
  deviceId: string;
  profileId: string;
  addressId: string;
}
/** Address book, units and routing rules as the CSV the import endpoints take. */
export interface Directory {
  addresses: string;
  units?: string;
  rules?: string;
}
export interface Script {
  description?: string;
  alarmPolicy?: unknown;
  edge?: { devices: EdgeDevice[] };
  directory?: Directory;
  steps: Step[];
  /** The day ends here (seconds); timers run at this time last. */
  end: number;
}

export class ScriptError extends Error {}

function expandOne(step: Step, out: TimedStep[]): void {
  if ('toggleReport' in step) {
    const t = step.toggleReport;
    for (let at = t.from, n = 0; at <= t.until; at += t.period, n += 1) out.push({ at, report: { device: t.device, readings: { [t.point]: n % 2 === 0 } } });
  } else if ('toggle' in step) {
    const t = step.toggle;
    for (let at = t.from, n = 0; at <= t.until; at += t.period, n += 1) {
      out.push({ at, device: t.device, type: t.type, level: t.level, action: n % 2 === 0 ? 'raise' : 'clear', ...(t.address ? { address: t.address } : {}) });
    }
  } else if ('burst' in step) {
    const b = step.burst;
    for (let n = 0; n < b.count; n += 1) {
      out.push({ at: b.from + n * b.every, device: `${b.prefix}${n + 1}`, type: b.type, level: b.level, action: 'raise', address: b.addresses[n % b.addresses.length] as string });
    }
  } else if (!('expect' in step)) out.push(step);
}

/** Every step as timed reports, in time order (stable: same-second steps keep script order). */
export function expandSteps(steps: readonly Step[]): TimedStep[] {
  const out: TimedStep[] = [];
  for (const [index, step] of steps.entries()) {
    if (typeof step !== 'object' || step === null) throw new ScriptError(`steps[${index}]: expected an object`);
    expandOne(step, out);
  }
  for (const [index, step] of out.entries()) {
    if (typeof step.at !== 'number' || !Number.isFinite(step.at)) throw new ScriptError(`step ${index}: "at" must be a number of seconds`);
  }
  return out.map((s, i) => ({ s, i })).sort((a, b) => a.s.at - b.s.at || a.i - b.i).map(({ s }) => s);
}

/**
 * A script from text: a JSON object (the test/cases format), or NDJSON — each line one step, and
 * optionally one line `{"script": {…}}` carrying the other fields (policy, edge devices, directory).
 */
export function parseScript(text: string, source: string): Script {
  const trimmed = text.trim();
  const whole = wholeJson(trimmed);
  if (whole !== null) {
    if (!Array.isArray(whole.steps)) throw new ScriptError(`${source}: "steps" must be an array`);
    return { ...whole, end: whole.end ?? lastAt(whole.steps) };
  }
  const header: Partial<Script> = {};
  const steps: Step[] = [];
  for (const [index, line] of trimmed.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new ScriptError(`${source}:${index + 1}: not JSON (${(err as Error).message})`);
    }
    if (typeof value === 'object' && value !== null && 'script' in value) Object.assign(header, (value as { script: Partial<Script> }).script);
    else steps.push(value as Step);
  }
  return { ...header, steps, end: header.end ?? lastAt(steps) };
}

/** The text as one script object, or null when it is not one JSON value (then it is NDJSON). */
function wholeJson(text: string): Script | null {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && 'steps' in value ? (value as Script) : null;
  } catch {
    return null;
  }
}

function lastAt(steps: readonly Step[]): number {
  return expandSteps(steps).reduce((max, s) => Math.max(max, s.at), 0) + 1;
}
