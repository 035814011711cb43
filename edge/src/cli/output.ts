// Output and errors of the installer CLI: `--json` prints one JSON document on stdout; otherwise
// tables for people. Every error names what to do next and carries a documented exit code.

/** Exit codes (documented in edge/README.md, "Installer CLI"). */
export const EXIT = {
  ok: 0,
  /** A check failed: a device did not pass its test, a read found no answer. */
  failed: 1,
  /** Bad usage or an invalid config/CSV/profile: fix the input. */
  usage: 2,
  /** Something needed is unreachable: serial line, agent, cloud. */
  unreachable: 3,
  /** The cloud did not confirm the round trip in time. */
  timeout: 4,
} as const;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    /** What the installer should do next. */
    readonly next: string,
  ) {
    super(message);
  }
}

export interface OutputOptions {
  json?: boolean;
}

export function emit(options: OutputOptions, value: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

export function reportError(err: unknown, options: OutputOptions): number {
  const known = err instanceof CliError ? err : null;
  const message = err instanceof Error ? err.message : String(err);
  const exitCode = known?.exitCode ?? EXIT.failed;
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, error: message, next: known?.next ?? null, exitCode })}\n`);
  process.stderr.write(`gridwatch: ${message}\n${known ? `  next: ${known.next}\n` : ''}`);
  return exitCode;
}
