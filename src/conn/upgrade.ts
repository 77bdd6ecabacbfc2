/**
 * The hand-off of a connection to another protocol after a `101 Switching Protocols`.
 *
 * A handler (or sockserve's own `upgradeWebSocket`) returns a 101 `Response` that it claimed with
 * `claimUpgrade`. The connection loop takes the claim, writes the 101 head, stops reading HTTP and
 * calls the claim with a `ByteChannel` over the same socket. A 101 nobody claimed (for example one
 * made by `Deno.upgradeWebSocket`) is not written: the loop answers 500 instead.
 */

/** The raw connection after a 101, starting with the bytes already buffered after the head. */
export interface ByteChannel {
  /**
   * The peer's next bytes (first those buffered after the request head), or null once the peer
   * has closed its side. The view is valid until the next call.
   */
  read(): Promise<Uint8Array | null>;
  /** Writes all of `bytes`; settles once the socket took them, rejects once it is closed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the socket; harmless when already closed. */
  close(): void;
  /** Settles once the socket is closed, by either side. */
  readonly closed: Promise<void>;
  /**
   * Set by the protocol: called when the server shuts down, so it can say goodbye (a WebSocket
   * sends close 1001) before the grace period ends and the socket is closed.
   */
  onShutdown: (() => void) | null;
}

/** What the connection loop calls once the 101 has been written. */
export type UpgradeClaim = (channel: ByteChannel) => void;

const claims = new WeakMap<Response, UpgradeClaim>();

/** Marks `response` (a 101) as one the connection loop may write and hand over to `claim`. */
export function claimUpgrade(response: Response, claim: UpgradeClaim): void {
  claims.set(response, claim);
}

/** The claim on `response`, taken (a response is handed over once), or undefined. */
export function takeUpgrade(response: Response): UpgradeClaim | undefined {
  const claim = claims.get(response);
  if (claim !== undefined) claims.delete(response);
  return claim;
}
