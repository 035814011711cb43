// The API's one error type: a handler or middleware throws it, the app's error handler answers
// `{ "error": message }` with its status. Messages start with the field (or authorization/session)
// so a client author sees what to fix.

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 400 naming the field. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}
