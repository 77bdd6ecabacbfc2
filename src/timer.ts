/**
 * Timers on Deno's core timers, for the engine's clock (`DeadlineTicker` in conn/deadlines.ts), the request
 * timeout (dispatch.ts) and the access log's flush (log.ts): the timers a server sets while it
 * serves.
 *
 * Deno 2.9's global `setInterval` and `setTimeout` are its Node layer's, built on the core timers:
 * the first call in a process loads some twenty modules of that layer (node:timers and what it
 * imports), about 1.3 MiB of heap and 1.5 MiB more of Deno's executable resident, which a
 * hello-world server under load otherwise never needs (bench/README.md, Ninth round). The core
 * timer is the same timer without them: kept in the same lists, keeping the process alive the same
 * way, and seen by `deno test`'s sanitizer the same way. Where core has no such timer, these are
 * `setInterval` and `setTimeout`.
 */
import { denoCore } from "./deno_core.ts";

/** Core's timer functions (Deno 2.9: ext/core's 01_core.js). */
interface CoreTimers {
  createTimer(
    callback: () => void,
    after: number,
    args: undefined,
    isRepeat: boolean,
    isRefed: boolean,
    isSystem: boolean,
  ): object;
  cancelTimer(timer: object): void;
}

const core = typeof denoCore?.createTimer === "function" &&
    typeof denoCore?.cancelTimer === "function"
  ? denoCore as unknown as CoreTimers
  : null;

/** Calls `callback` every `ms` milliseconds, keeping the process alive unless `refed` is false,
 * until the returned function is called. */
export function repeatEvery(ms: number, callback: () => void, refed = true): () => void {
  return start(ms, callback, true, refed);
}

/** Calls `callback` once after `ms` milliseconds, keeping the process alive until then, unless
 * the returned function is called first (calling it afterwards does nothing). */
export function runAfter(ms: number, callback: () => void): () => void {
  return start(ms, callback, false);
}

function start(ms: number, callback: () => void, repeat: boolean, refed = true): () => void {
  if (core === null) {
    const id = repeat ? setInterval(callback, ms) : setTimeout(callback, ms);
    if (!refed) Deno.unrefTimer(id);
    return () => clearTimeout(id); // it clears either kind (the two share one list)
  }
  const timer = core.createTimer(callback, ms, undefined, repeat, refed, false);
  return () => core.cancelTimer(timer);
}
