/** bench/connection_sweep.ts: where the latency jumps, and the table it prints. */
import assert from "node:assert/strict";
import { kneeOf, type SweepStep, sweepTable } from "../../bench/connection_sweep.ts";

const step = (connections: number, p99Ms: number): SweepStep => ({
  connections,
  requestsPerSec: 150_000,
  p99Ms,
});

Deno.test("kneeOf: the first step whose p99 is ten times the first step's", () => {
  const steps = [step(100, 1.38), step(128, 1.38), step(140, 214), step(400, 895)];
  assert.equal(kneeOf(steps)?.connections, 140);
  assert.equal(kneeOf(steps, 1000)?.connections, undefined);
});

Deno.test("kneeOf: none without a jump, without steps, or without a first p99", () => {
  assert.equal(kneeOf([step(100, 1), step(200, 9.9)]), null);
  assert.equal(kneeOf([]), null);
  assert.equal(kneeOf([step(100, NaN), step(200, 500)]), null);
});

Deno.test("sweepTable: one row a step, rates rounded and p99 in milliseconds", () => {
  const table = sweepTable([{ connections: 140, requestsPerSec: 139908.52, p99Ms: 214 }]);
  assert.deepEqual(table.split("\n"), [
    "| connections | req/s | p99 |",
    "| ---: | ---: | ---: |",
    "| 140 | 139909 | 214.00 ms |",
  ]);
});
