/** bench/engine_ab.ts: the engine over a fake connection must answer every request it is sent. */
import assert from "node:assert/strict";
import { fakeConnection, loadEngine, serveBatches } from "../../bench/engine_ab.ts";

Deno.test("engine_ab: this checkout's engine answers every request of pipelined and single batches", async () => {
  const engine = await loadEngine(".");
  for (const depth of [1, 16]) {
    // serveBatches throws unless every request was answered; enough reads that a reader whose
    // free room shrank from one batch to the next would be offered less than a batch.
    const us = await serveBatches(engine, depth, 2000);
    assert.ok(us > 0 && Number.isFinite(us));
  }
});

Deno.test("engine_ab: the fake connection refuses a read with less room than a batch", async () => {
  const conn = fakeConnection(new Uint8Array(10), 2);
  assert.equal(await conn.read(new Uint8Array(10)), 10);
  await assert.rejects(conn.read(new Uint8Array(9)), RangeError);
});
