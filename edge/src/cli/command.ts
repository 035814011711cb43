// Plumbing every installer command shares: the common options, and the action wrapper that turns
// any error into its documented exit code, reported once (output.ts).
import type { Command } from 'commander';
import { TransportProblem } from '../drivers/descriptor.ts';
import { CliError, EXIT, reportError, type OutputOptions } from './output.ts';

export const DEFAULT_CONFIG = process.env.GRIDWATCH_CONFIG ?? '/etc/gridwatch/edge.yaml';

export interface Common extends OutputOptions {
  config: string;
}

export function withCommon(command: Command): Command {
  return command.option('-c, --config <file>', 'edge config file (env GRIDWATCH_CONFIG)', DEFAULT_CONFIG).option('--json', 'machine-readable output on stdout');
}

const KIND_EXIT = { usage: EXIT.usage, unreachable: EXIT.unreachable, failed: EXIT.failed } as const;

/** A transport's problem as the CLI reports it. */
export function asCliError(err: unknown): unknown {
  return err instanceof TransportProblem ? new CliError(err.message, KIND_EXIT[err.kind], err.next) : err;
}

export function action<T extends Common>(run: (opts: T, ...args: string[]) => Promise<void> | void) {
  return async (...params: unknown[]): Promise<void> => {
    // commander passes positional arguments, then the options, then the command.
    const command = params[params.length - 1] as Command;
    const opts = command.optsWithGlobals<T>();
    const args = params.slice(0, -2) as string[];
    try {
      await run(opts, ...args);
    } catch (err) {
      process.exitCode = reportError(asCliError(err), opts);
    }
  };
}

/** `--timeout-s 5` → 5; an error names the flag and the range. */
export function integerOption(flag: string, value: string | undefined, range: { min: number; max: number }): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  const hint = `pass a whole number within ${range.min}–${range.max} to ${flag}`;
  if (!Number.isInteger(n)) throw new CliError(`${flag}: expected a whole number, got "${value}"`, EXIT.usage, hint);
  if (n < range.min || n > range.max) throw new CliError(`${flag}: ${n} is outside ${range.min}–${range.max}`, EXIT.usage, hint);
  return n;
}
