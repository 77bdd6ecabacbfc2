/** Read epochs (src/io/read_epoch.ts): which reads certainly came before a moment. */
import assert from "node:assert/strict";
import { currentEpoch, readEpoch } from "../../src/io/read_epoch.ts";

/** Waits for a macrotask: every microtask queued until now has run. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("read epoch: reads taken in by reactions queued together share one epoch", async () => {
  await nextTask();
  // Already-resolved promises, as a batch of completed reads: their reactions are queued before
  // the first of them runs, like the reactions of the operations resolved in one turn.
  const taken: number[] = [];
  const batch = [1, 2, 3].map(() => Promise.resolve().then(() => taken.push(readEpoch())));
  await Promise.all(batch);
  assert.equal(taken.length, 3);
  assert.equal(new Set(taken).size, 1);
  assert.equal(currentEpoch(), taken[0]);
});

Deno.test("read epoch: a read taken in after the batch's reactions lands in a later epoch", async () => {
  await nextTask();
  const first = readEpoch();
  // A reaction queued now runs after the microtask that closes the epoch: the case of a read
  // started (and completed at once) while the batch is being handled.
  await Promise.resolve();
  const later = readEpoch();
  assert.ok(later > first, `${later} > ${first}`);
  await nextTask();
  assert.ok(readEpoch() > later);
});

Deno.test("read epoch: currentEpoch is never below an epoch handed out", async () => {
  await nextTask();
  const before = currentEpoch();
  const taken = readEpoch();
  assert.equal(taken, before + 1);
  assert.equal(currentEpoch(), taken);
  await nextTask();
  assert.equal(currentEpoch(), taken); // no read since: no new epoch
});
