/**
 * A connection's state as data, read and written by the serving loop (connection.ts) and the
 * request side (exchange.ts), as hyper's `State { reading, writing, keep_alive }`. Its one timeout
 * is a `Timeout` record (deadlines.ts); the request being served is `InFlight` (in_flight.ts).
 */

/**
 * Where a connection is:
 * - `idle`: between requests, waiting for the next one's first bytes (shutdown closes it now);
 * - `head`: reading the rest of a request head (under `headersTimeout`);
 * - `busy`: serving a request, from its parsed head to its answer written and its body drained;
 * - `upgraded`: handed to another protocol after a 101 (shutdown tells that protocol);
 * - `closed`: its socket is closed (errors from then on are the close's echo, not failures).
 *
 * Shutdown lets a connection in `head` or `busy` finish its request, then close.
 */
export type Phase = "idle" | "head" | "busy" | "upgraded" | "closed";

export interface ConnState {
  phase: Phase;
  /**
   * Whether the connection carries another request after the one being served: what the request
   * asked for (`Connection`, the HTTP version), turned off by shutdown, by a body left that is too
   * large to drain or held back for a 100 Continue; decided before the answer's head is written.
   */
  keepAlive: boolean;
  /** Set by shutdown: the request in flight is finished, then the connection closes. */
  draining: boolean;
}

export function newState(): ConnState {
  return { phase: "idle", keepAlive: true, draining: false };
}
