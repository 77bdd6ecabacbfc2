/**
 * Timers on Deno's core timers, for the engine's clock (`DeadlineTicker` in conn.ts), the request
 * timeout (dispatch.ts) and the access log's flush (log.ts): the timers a server sets while it
 * serves.
 *
 * Deno's global `setInterval` and `setTimeout` are its Node layer's, built on the core timers: the
 * first call in a process loads some twenty modules of that layer (node:timers and what it
 * imports), about 0.9–1.3 MiB of heap and 1.5 MiB more of Deno's executable resident, which a
 * hello-world server under load otherwise never needs. The core timer is the same timer without
 * them: kept in the same lists, keeping the process alive the same way, and seen by `deno test`'s
 * sanitizer the same way.
 *
 * The core timers are used once their startup check (`checkCoreTimers`, begun when this module
 * loads) has seen them behave: a timer fires, a cancelled one does not, a repeating one repeats
 * until cancelled. Until then — the first milliseconds of the process — and wherever the fence
 * (gate.ts) or the check says no, these are `setInterval` and `setTimeout`.
 */
import { denoCore } from "./core.ts";

/** Core's timer functions (Deno 2.8 and 2.9: ext/core's 01_core.js). */
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

const candidate = typeof denoCore?.createTimer === "function" &&
    typeof denoCore?.cancelTimer === "function"
  ? denoCore as unknown as CoreTimers
  : null;

/** Core's timers, once checked; null before and where they are not used. */
let core: CoreTimers | null = null;

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
  const timers = core;
  const timer = timers.createTimer(callback, ms, undefined, repeat, refed, false);
  return () => timers.cancelTimer(timer);
}

/**
 * Whether the core timers passed their check (false where they are not used); settles a few
 * milliseconds after this module loads.
 */
export const CORE_TIMERS: Promise<boolean> = candidate === null
  ? Promise.resolve(false)
  : checkCoreTimers(candidate).then((passed) => {
    if (passed) core = candidate;
    return passed;
  });

/**
 * Sees core's timers behave as the engine uses them: a one-shot timer cancelled at once never
 * fires; a repeating one fires twice and, cancelled from its callback, not again before a
 * one-shot set later than its next time fires (timers fire in order of their time, so a third
 * tick would come first). Resolves false at once if setting a timer throws. Its timers keep the
 * process alive for the few milliseconds the check takes, so that awaiting it is always safe.
 */
function checkCoreTimers(timers: CoreTimers): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      let cancelledFired = false;
      let ticks = 0;
      timers.cancelTimer(
        timers.createTimer(() => cancelledFired = true, 0, undefined, false, true, false),
      );
      const repeating = timers.createTimer(
        () => {
          if (++ticks !== 2) return;
          timers.cancelTimer(repeating);
          timers.createTimer(
            () => resolve(!cancelledFired && ticks === 2),
            3,
            undefined,
            false,
            true,
            false,
          );
        },
        1,
        undefined,
        true,
        true,
        false,
      );
    } catch {
      resolve(false);
    }
  });
}
