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

Deno.test("engine_ab: the fake connection gives a batch in pieces to reads with less room, then the end", async () => {
  const batch = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const conn = fakeConnection(batch, 2);
  const whole = new Uint8Array(10);
  assert.equal(await conn.read(whole), 10);
  assert.deepEqual(whole, batch);
  const small = new Uint8Array(4);
  const pieces: number[] = [];
  for (let i = 0; i < 3; i++) {
    const n = await conn.read(small);
    assert.ok(n !== null);
    pieces.push(...small.subarray(0, n));
  }
  assert.deepEqual(pieces, [...batch]);
  assert.equal(await conn.read(whole), null);
});
