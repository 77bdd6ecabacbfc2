/**
 * Properties of the request-head parser (`findHeadEnd` + `incompleteHeadError` + `parseHead`), as
 * the connection drives it through `BufferedReader.readMatch`:
 * - any bytes give a head, an `HttpError` with a 4xx/5xx status, or "incomplete" — nothing else;
 * - a head serialised from valid parts parses back to the same parts;
 * - the same bytes arriving split at any points give the same outcome.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { HttpError } from "../../../src/errors.ts";
import { BufferedReader, type Matcher } from "../../../src/io/reader.ts";
import {
  findHeadEnd,
  HEAD_END_OVERLAP,
  type HeadLimits,
  incompleteHeadError,
  parseHead,
  type RequestHead,
} from "../../../src/http1/parse.ts";
import { DEFAULT_LIMITS } from "../../../src/options.ts";
import {
  anyBytes,
  cuts,
  headParts,
  httpNoise,
  latin1,
  params,
  pieces,
  RUNS,
  serializeHead,
} from "./arbitraries.ts";

/** Small limits, so that generated input reaches the 414 and 431 paths too. */
const SMALL: HeadLimits = { maxUriBytes: 48, maxHeaderBytes: 120, maxHeaderCount: 6 };

type Outcome =
  | { kind: "head"; head: RequestHead; length: number }
  | { kind: "error"; status: number }
  | { kind: "incomplete" };

/** Reads one head the way conn.ts does and classifies the outcome. Rethrows non-HttpErrors. */
async function readHead(input: Uint8Array, at: number[], limits: HeadLimits): Promise<Outcome> {
  const reader = new BufferedReader(pieces(input, at), 1 << 16);
  const match: Matcher = (buf, start, from, to) => {
    const end = findHeadEnd(buf, start, from, to);
    if (end !== -1) return end;
    const error = incompleteHeadError(buf, start, to, limits);
    if (error) throw error;
    return -1;
  };
  try {
    const result = await reader.readMatch(match, Infinity, HEAD_END_OVERLAP);
    if (result.status !== "found") return { kind: "incomplete" };
    const bytes = result.bytes;
    return {
      kind: "head",
      head: parseHead(bytes, 0, bytes.length, limits),
      length: bytes.length,
    };
  } catch (error) {
    if (error instanceof HttpError) return { kind: "error", status: error.status };
    throw error;
  }
}

function assertHttpOutcome(outcome: Outcome): void {
  if (outcome.kind === "error") {
    assert.ok(outcome.status >= 400 && outcome.status <= 599, `status ${outcome.status}`);
  }
}

Deno.test("fuzz parse: any bytes give a head, an HttpError 4xx/5xx or incomplete", async () => {
  for (const limits of [DEFAULT_LIMITS, SMALL]) {
    await fc.assert(
      fc.asyncProperty(anyBytes, async (bytes) => {
        assertHttpOutcome(await readHead(bytes, [], limits));
        // The pure functions directly, at every offset the reader might use.
        const end = findHeadEnd(bytes, 0, 0, bytes.length);
        assert.ok(end === -1 || (end > 0 && end <= bytes.length));
        if (end === -1) {
          const error = incompleteHeadError(bytes, 0, bytes.length, limits);
          assert.ok(error === null || error instanceof HttpError);
        }
      }),
      params(),
    );
  }
});

Deno.test("fuzz parse: a head serialised from valid parts parses back to the same parts", () => {
  fc.assert(
    fc.property(headParts, (parts) => {
      const bytes = latin1(serializeHead(parts));
      const end = findHeadEnd(bytes, 0, 0, bytes.length);
      assert.equal(end, bytes.length, "the head ends at its empty line");
      const head = parseHead(bytes, 0, end, DEFAULT_LIMITS);
      assert.deepEqual(
        { method: head.method, target: head.target, minor: head.minor, fields: head.fields },
        { method: parts.method, target: parts.target, minor: parts.minor, fields: parts.fields },
      );
      assert.equal(head.form, "origin");
    }),
    params(),
  );
});

/** A valid head followed by noise, or noise alone; with the points where reads split it. */
const splitInput = fc.oneof(
  fc.tuple(headParts, httpNoise).map(([parts, tail]) => {
    const head = latin1(serializeHead(parts));
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  }),
  anyBytes,
).chain((bytes) => fc.tuple(fc.constant(bytes), cuts(bytes.length)));

Deno.test("fuzz parse: the same bytes split across reads give the same outcome", async () => {
  for (const limits of [DEFAULT_LIMITS, SMALL]) {
    await fc.assert(
      fc.asyncProperty(splitInput, async ([bytes, at]) => {
        const whole = await readHead(bytes, [], limits);
        const split = await readHead(bytes, at, limits);
        assertHttpOutcome(split);
        assert.deepEqual(split, whole);
        // One byte per read: the worst case for the rescan overlap.
        const bytewise = Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
        assert.deepEqual(await readHead(bytes, bytewise, limits), whole);
      }),
      params(),
    );
  }
});

Deno.test("fuzz parse: time grows linearly with the input (no hang on adversarial heads)", () => {
  // Heads of 64 KiB that keep the scanners busy: many LFs, many bare CRs, many tiny fields.
  const adversarial = [
    "\n".repeat(65536),
    "\r".repeat(65536),
    "\r\n \r\n".repeat(10922),
    `GET / HTTP/1.1\r\n${"a:\r\n".repeat(16000)}\r\n`,
    `GET /${"a".repeat(65536)} HTTP/1.1\r\n\r\n`,
  ];
  const limits = { maxUriBytes: 1 << 20, maxHeaderBytes: 1 << 20, maxHeaderCount: 1 << 20 };
  for (const text of adversarial) {
    const bytes = latin1(text);
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const end = findHeadEnd(bytes, 0, 0, bytes.length);
      if (end === -1) incompleteHeadError(bytes, 0, bytes.length, limits);
      else {
        try {
          parseHead(bytes, 0, end, limits);
        } catch (error) {
          assert.ok(error instanceof HttpError);
        }
      }
    }
    // 10 passes over 640 KiB: linear code takes a few ms; quadratic code takes minutes.
    assert.ok(performance.now() - started < 2000, `slow on ${JSON.stringify(text.slice(0, 20))}`);
  }
  assert.ok(RUNS > 0);
});
