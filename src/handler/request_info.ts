/**
 * The handler's second argument: where the request came from, and `completed`, which says
 * whether its answer was sent, as Deno.serve's `ServeHandlerInfo` does.
 *
 * `completed` is made only when a handler reads it (most never do), and settling an info nobody
 * asked is a field write. Such an info is also used again for the connection's next request
 * (unless `claimed`): an object a request was a twentieth of what a small request allocated. The one
 * difference a handler could see: an info whose `completed` is first read after its request was
 * answered and the next one begun gives the next request's.
 */
import type { ServeHandlerInfo, Transport } from "../options.ts";

export class RequestInfo<Addr extends Deno.Addr = Deno.Addr, T extends Transport = Transport>
  implements ServeHandlerInfo<Addr> {
  remoteAddr: Addr;
  transport: T;
  /** Set (by the engine) while the request is being answered. */
  pending = false;
  /** Set when the answer could not be sent. */
  #failed = false;
  #completed: Promise<void> | null = null;
  /** Settles `#completed` while it is pending and awaited. */
  #settle: ((sent: boolean) => void) | null = null;

  constructor(remoteAddr: Addr, transport: T) {
    this.remoteAddr = remoteAddr;
    this.transport = transport;
  }

  /**
   * Resolves once the answer to this request was written whole to the socket; rejects (with
   * `Deno.errors.Interrupted`, as Deno.serve) when it was not: the client left, a timeout or an
   * error answer came instead, or the server closed the connection at shutdown.
   */
  get completed(): Promise<void> {
    if (this.#completed === null) {
      if (this.#failed) this.#completed = Promise.reject(notSent());
      else if (!this.pending) this.#completed = Promise.resolve();
      else {
        this.#completed = new Promise((resolve, reject) => {
          this.#settle = (sent) => sent ? resolve() : reject(notSent());
        });
      }
      // A rejection nobody awaits is not an error of the program's: the handler may look at
      // `completed` only to learn of success.
      this.#completed.catch(() => {});
    }
    return this.#completed;
  }

  /**
   * Whether `completed` was read: the info then stays its request's, and the connection's next
   * request gets a new one.
   */
  get claimed(): boolean {
    return this.#completed !== null;
  }

  /** Whether a handler is waiting on `completed` (so the engine says when the answer left). */
  get awaited(): boolean {
    return this.#settle !== null;
  }

  /** Settles `completed`: the answer was sent whole, or not. */
  settle(sent: boolean): void {
    this.pending = false;
    if (!sent) this.#failed = true;
    this.#settle?.(sent);
    this.#settle = null;
  }
}

function notSent(): Error {
  return new Deno.errors.Interrupted("HTTP response was not sent successfully");
}
