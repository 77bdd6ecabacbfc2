/**
 * The slot array that holds a server's open connections (src/registry.ts): it must hold exactly
 * the members added and not deleted, whatever the order, and reuse the slots of those that left.
 */
import assert from "node:assert/strict";
import { Registry } from "../../src/conn/registry.ts";

/** Steps: a name to add, or "-name" to delete the member of that name. */
const SEQUENCES: [string, string[], string[]][] = [
  ["empty", [], []],
  ["added only", ["a", "b", "c"], ["a", "b", "c"]],
  ["all deleted", ["a", "b", "-a", "-b"], []],
  ["deleted in another order", ["a", "b", "c", "-b", "-c", "-a"], []],
  ["a slot reused", ["a", "b", "-a", "c"], ["b", "c"]],
  ["churn", ["a", "-a", "b", "-b", "c", "-c", "d"], ["d"]],
  ["a member deleted twice", ["a", "b", "-a", "-a", "c"], ["b", "c"]],
];

for (const [name, steps, expected] of SEQUENCES) {
  Deno.test(`Registry: ${name}`, () => {
    const registry = new Registry<string>();
    const slots = new Map<string, number>();
    for (const step of steps) {
      if (step.startsWith("-")) registry.delete(slots.get(step.slice(1))!);
      else slots.set(step, registry.add(step));
    }
    assert.deepEqual([...registry].sort(), expected);
    assert.equal(registry.size, expected.length);
  });
}

Deno.test("Registry: slots are reused, so churn does not grow it", () => {
  const registry = new Registry<number>();
  const held = [registry.add(0), registry.add(1)];
  const seen = new Set<number>(held);
  for (let n = 2; n < 1000; n++) {
    registry.delete(held.shift()!);
    const slot = registry.add(n);
    held.push(slot);
    seen.add(slot);
  }
  assert.equal(registry.size, 2);
  assert.deepEqual([...registry].sort((a, b) => a - b), [998, 999]);
  assert.ok(seen.size <= 2, `${seen.size} slots used for at most 2 members at once`);
});

Deno.test("Registry: a member may be deleted while the members are walked", () => {
  const registry = new Registry<string>();
  const slots = ["a", "b", "c", "d"].map((member) => registry.add(member));
  const walked: string[] = [];
  for (const member of registry) {
    walked.push(member);
    // Each member walked removes itself and the next one, as a ticker closing connections may.
    registry.delete(slots[walked.length * 2 - 2]);
    registry.delete(slots[walked.length * 2 - 1]);
  }
  assert.deepEqual(walked, ["a", "c"]);
  assert.equal(registry.size, 0);
});
