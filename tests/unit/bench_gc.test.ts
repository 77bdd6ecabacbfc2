/** bench/gc_summary.ts over a trace shaped like V8's `--trace-gc-nvp` output. */
import assert from "node:assert/strict";
import { summarizeGcTrace } from "../../bench/gc_summary.ts";

function record(gc: string, pause: number, capacity: number, survived: number, promoted: number) {
  const fields = {
    pause,
    mutator: 1.5,
    gc,
    reason: "allocation failure",
    new_space_capacity: capacity,
    new_space_survived: survived,
    promoted,
    end_memory_size: capacity * 2,
  };
  return `[1234:0x55d0:0]      45 ms: GC: ${JSON.stringify(fields)}`;
}

Deno.test("summarizeGcTrace: counts, peaks, and the steady state's medians", () => {
  const trace = [
    "[1234:0x55d0:0]       12 ms: Memory pool: Removed pages: 0, removed large pages: 0",
    ", removed zone reservations: 0",
    record("s", 1, 1024, 900, 0), // warm-up half: not in the medians
    record("s", 2, 2048, 800, 100),
    record("mc", 3, 2048, 0, 0),
    record("s", 1, 4096, 300, 10),
    record("s", 1, 4096, 100, 30),
    record("s", 1, 4096, 200, 20),
    "READY 8000",
  ].join("\n");
  const s = summarizeGcTrace(trace);
  assert.equal(s.scavenges, 5);
  assert.equal(s.markCompacts, 1);
  assert.equal(s.totalPause, 9);
  assert.equal(s.maxNewSpaceBytes, 4096);
  assert.equal(s.maxCommittedBytes, 8192);
  // The steady state is the last three scavenges: survived 300, 100, 200; promoted 10, 30, 20.
  assert.equal(s.survivedBytes, 200);
  assert.equal(s.promotedBytes, 20);
});

Deno.test("summarizeGcTrace: a trace without collections is all zeros", () => {
  assert.deepEqual(summarizeGcTrace("READY 8000\n"), {
    scavenges: 0,
    markCompacts: 0,
    totalPause: 0,
    maxNewSpaceBytes: 0,
    maxCommittedBytes: 0,
    survivedBytes: 0,
    promotedBytes: 0,
  });
});
