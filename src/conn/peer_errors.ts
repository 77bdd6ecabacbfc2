/**
 * Errors that end a connection because of the peer or the socket — a reset, a broken pipe, a
 * socket closed by a timeout or at shutdown, a TLS client that breaks off — and not because of
 * the engine: the connection ends quietly on these, and is logged on anything else.
 */
export function isPeerError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.TimedOut ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.InvalidData;
}
