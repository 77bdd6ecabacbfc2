/**
 * Read epochs: which reads from sockets certainly happened before a given moment.
 *
 * A JavaScript server learns of completed socket reads in batches: the runtime collects the
 * operations that finished, resolves their promises together, and the reactions run as
 * microtasks before control goes back to the runtime. While that JavaScript runs, no read can
 * complete, except one started right then whose bytes were already waiting (the runtime polls a
 * new operation once at its call, and resolves it then).
 *
 * Each read the reader takes in gets the number of the epoch it is taken in (`readEpoch`). An
 * epoch opens at the first read taken in after the last one closed, and closes at the microtask
 * that opening queued, which runs after the reactions already queued with it: the rest of the
 * same batch. A read started later, while JavaScript runs, has its reaction queued behind that
 * closing microtask, so it lands in a later epoch.
 *
 * Hence the rule the file server's cache relies on: a read taken in with an epoch up to
 * `currentEpoch()`'s value at some moment had received its bytes before that moment. A file's
 * `stat` made at that moment is as new as every such request, and answers for all of them: they
 * could have been served in any order. A request read afterwards gets a later epoch and a `stat`
 * of its own, so an edited file is still seen by every request that arrives after the edit.
 */

let epoch = 0;
let open = false;

function close(): void {
  open = false;
}

/** The epoch a read that just completed is taken in; opens a new one when none is open. */
export function readEpoch(): number {
  if (!open) {
    open = true;
    epoch++;
    queueMicrotask(close);
  }
  return epoch;
}

/** The latest epoch: every read taken in with this number or a lower one has already completed. */
export function currentEpoch(): number {
  return epoch;
}
