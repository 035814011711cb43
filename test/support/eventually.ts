// The one polling helper for every workspace's tests: waits for a probe to produce a value, for
// conditions that have no event to await (a row in PostgreSQL, a metric, a log line).
const POLL_MS = 25;

/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and returns that.
 * A probe that throws is retried (a server may still be starting); the last error is named in the
 * timeout message so a failure says what was seen, not only what was awaited.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
