// Which store errors are worth another try. Only transient ones: the connection went away, or the
// database chose this transaction as the loser of a serialization conflict or deadlock. Anything
// else (a value the store cannot hold, a broken constraint) fails the same way every time, so the
// event is rejected by id with the reason instead of being resent forever.
import type { RejectReason } from '../metrics.ts';

/** SQLSTATE classes and codes that are transient (PostgreSQL Appendix A). */
const TRANSIENT_CODES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '55P03']);
const TRANSIENT_CLASSES = ['08'];
/** Node-level network failures of the pg client. */
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECTION_LOST = /connection (terminated|closed|lost|error)|Client has encountered a connection error|terminating connection|Connection terminated unexpectedly/i;

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function isTransientStoreError(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) {
    if (TRANSIENT_CODES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
    if (TRANSIENT_CLASSES.some((c) => code.startsWith(c)) && /^[0-9A-Z]{5}$/.test(code)) return true;
  }
  return err instanceof Error && CONNECTION_LOST.test(err.message);
}

/** A unique-key race with another replica: the winner's row is visible on the next statement. */
export function isUniqueRace(err: unknown): boolean {
  return codeOf(err) === '23505';
}

/** A one-line reason for the edge and the dead letter, naming the SQLSTATE when there is one. */
export function describeStoreError(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return `store: ${code ? `${code} ` : ''}${message}`.slice(0, 400);
}

/**
 * Thrown while applying one event to refuse it on purpose (e.g. a device the cloud has no record
 * of): the event's savepoint is rolled back and it is rejected by id with this message and label.
 */
export class EventRefused extends Error {
  override readonly name = 'EventRefused';
  constructor(
    message: string,
    readonly label: RejectReason,
  ) {
    super(message);
  }
}
