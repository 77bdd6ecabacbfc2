/**
 * The one error type of the HTTP layer: a status code the peer should see and a message a person
 * can act on. Parser, framing and limits all throw or return it; the connection turns it into a
 * response (and, for framing errors, a close).
 */
export class HttpError extends Error {
  /** HTTP status code sent to the client (4xx or 5xx). */
  readonly status: number;
  /**
   * True when the connection cannot be trusted to stay in sync after this error (the request's
   * framing is unknown), so the server must answer with `Connection: close` and close.
   */
  readonly closeConnection: boolean;

  constructor(status: number, message: string, options: { close?: boolean } = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.closeConnection = options.close ?? true;
  }
}
