// Parsing of the installer's device flags and CSV columns, shared by the transports' CLI support:
// every error names the user's own input (the flag or the column) and says what to pass instead.
import { TransportProblem, type DeviceFlags } from './descriptor.ts';

/** How a flag is named to the user: `--unit-id` on the command line, `column unit_id` in a CSV. */
export type FlagName = (key: string) => string;

export function integerFlag(flags: DeviceFlags, key: string, nameOf: FlagName, range?: { min: number; max: number }): number | undefined {
  const text = textFlag(flags, key);
  if (text === undefined) return undefined;
  const n = Number(text);
  const within = range ? ` within ${range.min}–${range.max}` : '';
  if (!Number.isInteger(n)) throw new TransportProblem(`${nameOf(key)}: expected a whole number, got "${text}"`, 'usage', `pass a whole number${within} in ${nameOf(key)}`);
  if (range && (n < range.min || n > range.max)) throw new TransportProblem(`${nameOf(key)}: ${n} is outside ${range.min}–${range.max}`, 'usage', `pass a number${within} in ${nameOf(key)}`);
  return n;
}

export function textFlag(flags: DeviceFlags, key: string): string | undefined {
  const text = flags[key];
  return typeof text === 'string' && text !== '' ? text : undefined;
}
