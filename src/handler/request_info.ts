/**
 * The handler's second argument, one per request: where the request came from, and `completed`,
 * which says whether its answer was sent, as Deno.serve's `ServeHandlerInfo` does.
 *
 * `completed` is made only when a handler reads it (most never do): until then a request's info
 * is two fields and an outcome, and settling it is a field write.
 */
import type { ServeHandlerInfo, Transport } from "../options.ts";

const PENDING = 0;
const SENT = 1;
const FAILED = 2;

export class RequestInfo<Addr extends Deno.Addr = Deno.Addr, T extends Transport = Transport>
  implements ServeHandlerInfo<Addr> {
  remoteAddr: Addr;
  transport: T;
  #outcome = PENDING;
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
      if (this.#outcome === SENT) this.#completed = Promise.resolve();
      else if (this.#outcome === FAILED) this.#completed = Promise.reject(notSent());
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

  /** Whether a handler is waiting on `completed` (so the engine says when the answer left). */
  get awaited(): boolean {
    return this.#settle !== null;
  }

  /** Settles `completed`: the answer was sent whole, or not. Only the first call counts. */
  settle(sent: boolean): void {
    if (this.#outcome !== PENDING) return;
    this.#outcome = sent ? SENT : FAILED;
    this.#settle?.(sent);
    this.#settle = null;
  }
}

function notSent(): Error {
  return new Deno.errors.Interrupted("HTTP response was not sent successfully");
}
