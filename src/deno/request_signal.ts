/**
 * Aborting a `Request`'s `signal` from outside, as Deno.serve does when a client goes away.
 *
 * A Request makes its signal only when something first reads `request.signal`, and keeps it
 * under its "signalCache" symbol: undefined until then, and `false` means "made aborted"
 * (Deno 2.8 and 2.9, ext/fetch's 23_request.js). Deno.serve aborts a request by putting `false`
 * there when nobody has asked for the signal yet, and otherwise by calling the signal's
 * "[[signalAbort]]" method: nothing is made for a request whose handler never looks, which is
 * what this does too.
 *
 * Where these internals are missing, a request is given an `AbortController`'s signal when it is
 * made (`requestSignal`), and aborting it aborts that controller: the public way, at the cost of a
 * controller and a dependent signal a request. That they are there is checked at startup; that
 * they behave, at the first abort: a process that has made a request's signal once allocates
 * 30–60 bytes more a request from then on (V8's shapes of Deno's objects change), so the check
 * waits until a signal is needed anyway. If they do not behave, the requests made from then on
 * have controllers (one line is logged).
 */

import { INTERNALS_ALLOWED } from "./gate.ts";

/** Deno's pieces that `abortRequest` relies on. */
interface Internals {
  /** Where a Request keeps its signal, once made (or `false`). */
  signalCache: symbol;
  /** AbortSignal's own abort: `signal[signalAbort](reason)`. */
  signalAbort: symbol;
}

/** The controllers of the requests made without the internals, by request. */
const controllers = new WeakMap<Request, AbortController>();

/** The reason a request's signal gives, as Deno.serve's. */
function cancelled(): DOMException {
  return new DOMException("The request has been cancelled.", "AbortError");
}

/**
 * Aborts `request.signal`, now if it was made, or when it is first read. A request aborted
 * before stays so.
 */
export function abortRequest(request: Request): void {
  if (internals !== null && !verified) {
    verified = true;
    if (!behaves(internals)) {
      internals = null;
      console.error(
        "sockserve: Deno's request signals do not behave as expected; requests get an " +
          "AbortController from now on",
      );
    }
  }
  if (internals === null) {
    controllers.get(request)?.abort(cancelled());
    return;
  }
  const slots = request as unknown as Record<symbol, unknown>;
  const signal = slots[internals.signalCache];
  if (signal === undefined) slots[internals.signalCache] = false;
  else if (signal !== false) {
    (signal as unknown as Record<symbol, (reason: unknown) => void>)[internals.signalAbort](
      cancelled(),
    );
  }
}

/**
 * The `signal` to make a request with, so that `abortRequest` can abort it: undefined when the
 * internals do that (no controller is made), else a new controller's, which `adoptSignal` ties to
 * the request once made.
 */
export function requestSignal(): AbortController | undefined {
  return internals === null ? new AbortController() : undefined;
}

/** Ties `controller` (from `requestSignal`) to the request made with its signal. */
export function adoptSignal(request: Request, controller: AbortController | undefined): void {
  if (controller !== undefined) controllers.set(request, controller);
}

/** Deno's pieces, if they are there (whether they behave is checked at the first abort). */
function findInternals(): Internals | null {
  try {
    const probe = new Request("http://check.invalid/");
    const signalCache = Object.getOwnPropertySymbols(probe)
      .find((symbol) => symbol.description === "signalCache");
    const signalAbort = Object.getOwnPropertySymbols(AbortSignal.prototype)
      .find((symbol) => symbol.description === "[[signalAbort]]");
    if (signalCache === undefined || signalAbort === undefined) return null;
    const abort = (AbortSignal.prototype as unknown as Record<symbol, unknown>)[signalAbort];
    const slot = (probe as unknown as Record<symbol, unknown>)[signalCache];
    return typeof abort === "function" && slot === undefined ? { signalCache, signalAbort } : null;
  } catch {
    return null;
  }
}

/** Whether a signal read before and one read after an abort both come out aborted. */
function behaves(found: Internals): boolean {
  const slots = (request: Request) => request as unknown as Record<symbol, unknown>;
  const early = new Request("http://check.invalid/");
  const signal = early.signal;
  let events = 0;
  signal.addEventListener("abort", () => events++);
  if (signal.aborted || slots(early)[found.signalCache] !== signal) return false;
  (signal as unknown as Record<symbol, (reason: unknown) => void>)[found.signalAbort](cancelled());
  const late = new Request("http://check.invalid/");
  if (slots(late)[found.signalCache] !== undefined) return false;
  slots(late)[found.signalCache] = false;
  return signal.aborted && events === 1 && signal.reason?.name === "AbortError" &&
    early.signal === signal && late.signal.aborted && late.signal.reason?.name === "AbortError";
}

let internals = INTERNALS_ALLOWED ? findInternals() : null;
/** Whether `behaves` has run. */
let verified = false;
