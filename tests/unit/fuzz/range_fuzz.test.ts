/**
 * Properties of the Range parser (`parseRange`, RFC 9110 §14): any header value gives one of the
 * three answers and never throws; the ranges it returns lie inside the representation, do not
 * overlap (no amplification), number at most MAX_RANGES, and select exactly the bytes the header
 * asked for; a header written from random valid specs selects the same bytes as a model does.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ByteRange, MAX_RANGES, parseRange } from "../../../src/static/range.ts";
import { params } from "./arbitraries.ts";

const size = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 }));

const rangeish = fc.array(
  fc.constantFrom(
    "bytes",
    "BYTES",
    "=",
    " ",
    "\t",
    ",",
    "-",
    "0",
    "1",
    "9",
    "42",
    "99999999999999999999",
    "1e3",
    "+",
    "items",
    ";",
  ),
  { maxLength: 20 },
).map((parts) => parts.join(""));

function checkAnswer(header: string, n: number): ReturnType<typeof parseRange> {
  const answer = parseRange(header, n);
  assert.ok(["ignore", "unsatisfiable", "ranges"].includes(answer.kind));
  if (answer.kind === "ranges") {
    const ranges = answer.ranges;
    assert.ok(ranges.length >= 1 && ranges.length <= MAX_RANGES);
    for (const { first, last } of ranges) {
      assert.ok(Number.isSafeInteger(first) && Number.isSafeInteger(last), `${first}-${last}`);
      assert.ok(0 <= first && first <= last && last < n, `${first}-${last} of ${n}`);
    }
    const sorted = ranges.toSorted((a, b) => a.first - b.first);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i].first > sorted[i - 1].last, "ranges never overlap");
    }
  }
  return answer;
}

Deno.test("fuzz range: any header value gives ignore, unsatisfiable or ranges within the file", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 80 }), rangeish), size, (header, n) => {
      checkAnswer(header, n);
      checkAnswer(`bytes=${header}`, n);
    }),
    params(),
  );
});

type Spec = { first: number; last: number | null } | { suffix: number };

const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.tuple(fc.nat(300), fc.option(fc.nat(300), { nil: null })).map(([a, b]) => ({
    first: b === null ? a : Math.min(a, b),
    last: b === null ? null : Math.max(a, b),
  })),
  fc.nat(300).map((suffix) => ({ suffix })),
);

function write(s: Spec): string {
  if ("suffix" in s) return `-${s.suffix}`;
  return `${s.first}-${s.last ?? ""}`;
}

/** The bytes the specs select in a representation of `n` bytes (RFC 9110 §14.1.2). */
function model(specs: Spec[], n: number): Set<number> {
  const selected = new Set<number>();
  for (const s of specs) {
    const [first, last] = "suffix" in s
      ? [Math.max(0, n - s.suffix), s.suffix === 0 ? -1 : n - 1]
      : [s.first, Math.min(s.last ?? n - 1, n - 1)];
    for (let i = first; i <= last; i++) selected.add(i);
  }
  return selected;
}

function selectedBy(ranges: ByteRange[]): Set<number> {
  const selected = new Set<number>();
  for (const { first, last } of ranges) for (let i = first; i <= last; i++) selected.add(i);
  return selected;
}

Deno.test("fuzz range: valid specs select exactly the bytes they name, each once", () => {
  fc.assert(
    fc.property(
      fc.array(spec, { minLength: 1, maxLength: MAX_RANGES }),
      fc.integer({ min: 1, max: 250 }),
      fc.constantFrom(",", ", ", " ,", " , "),
      (specs, n, sep) => {
        const answer = checkAnswer(`bytes=${specs.map(write).join(sep)}`, n);
        const expected = model(specs, n);
        if (expected.size === 0) {
          assert.deepEqual(answer, { kind: "unsatisfiable" });
          return;
        }
        assert.equal(answer.kind, "ranges");
        if (answer.kind !== "ranges") return;
        assert.deepEqual(selectedBy(answer.ranges), expected);
        const total = answer.ranges.reduce((t, r) => t + r.last - r.first + 1, 0);
        assert.equal(total, expected.size, "no byte is sent twice");
      },
    ),
    params(),
  );
});
