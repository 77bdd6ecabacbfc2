/**
 * Properties of the chunked decoder (`ChunkedDecoder`): any bytes give data and a stop index, or
 * an `HttpError` 4xx/5xx; a body encoded from random chunks decodes to the same bytes and stops
 * exactly at its end; the same bytes split across reads give the same outcome.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder, type ChunkedLimits } from "../../../src/http1/request_body.ts";
import { HttpError } from "../../../src/errors.ts";
import {
  anyBytes,
  chunkedParts,
  cuts,
  fromLatin1,
  httpNoise,
  latin1,
  params,
  serializeChunked,
} from "./arbitraries.ts";

const LIMITS: ChunkedLimits = { maxBodyBytes: 1 << 20, maxExtensionBytes: 64, maxTrailerBytes: 64 };
const SMALL: ChunkedLimits = { maxBodyBytes: 100, maxExtensionBytes: 8, maxTrailerBytes: 20 };

type Outcome =
  | { kind: "done"; body: string; consumed: number }
  | { kind: "more"; body: string; consumed: number }
  | { kind: "error"; status: number };

/** Feeds `input` in pieces as the body reader does (unconsumed bytes stay buffered). */
function decode(input: Uint8Array, at: number[], limits: ChunkedLimits): Outcome {
  const decoder = new ChunkedDecoder(limits);
  const bounds = [0, ...at, input.length];
  let body = "";
  let consumed = 0;
  let pending = new Uint8Array(0);
  try {
    for (let i = 0; i + 1 < bounds.length && !decoder.done; i++) {
      const piece = new Uint8Array(pending.length + bounds[i + 1] - bounds[i]);
      piece.set(pending);
      piece.set(input.subarray(bounds[i], bounds[i + 1]), pending.length);
      const used = decoder.decode(piece, 0, piece.length, (data) => {
        assert.ok(data.length > 0, "no empty data runs");
        body += fromLatin1(data);
      });
      assert.ok(used >= 0 && used <= piece.length, `stop index ${used} of ${piece.length}`);
      // The decoder takes everything offered until the message ends.
      if (!decoder.done) assert.equal(used, piece.length);
      consumed += used;
      pending = piece.slice(used);
    }
  } catch (error) {
    if (error instanceof HttpError) {
      assert.ok(error.status >= 400 && error.status <= 599, `status ${error.status}`);
      return { kind: "error", status: error.status };
    }
    throw error;
  }
  return { kind: decoder.done ? "done" : "more", body, consumed };
}

Deno.test("fuzz chunked: any bytes give data and a stop index, or an HttpError 4xx/5xx", () => {
  for (const limits of [LIMITS, SMALL]) {
    fc.assert(fc.property(anyBytes, (bytes) => void decode(bytes, [], limits)), params());
  }
});

Deno.test("fuzz chunked: a body encoded from random chunks decodes to the same bytes", () => {
  fc.assert(
    fc.property(chunkedParts, httpNoise, (parts, tail) => {
      const message = latin1(serializeChunked(parts));
      const input = new Uint8Array(message.length + tail.length);
      input.set(message);
      input.set(tail, message.length);
      const expected = parts.chunks.map(fromLatin1).join("");
      assert.deepEqual(decode(input, [], LIMITS), {
        kind: "done",
        body: expected,
        consumed: message.length,
      });
    }),
    params(),
  );
});

const splitInput = fc.oneof(
  fc.tuple(chunkedParts, httpNoise).map(([parts, tail]) =>
    latin1(serializeChunked(parts) + fromLatin1(tail))
  ),
  anyBytes,
).chain((bytes) => fc.tuple(fc.constant(bytes), cuts(bytes.length)));

Deno.test("fuzz chunked: the same bytes split across reads give the same outcome", () => {
  for (const limits of [LIMITS, SMALL]) {
    fc.assert(
      fc.property(splitInput, ([bytes, at]) => {
        const whole = decode(bytes, [], limits);
        assert.deepEqual(decode(bytes, at, limits), whole);
        const bytewise = Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
        assert.deepEqual(decode(bytes, bytewise, limits), whole);
      }),
      params(),
    );
  }
});

Deno.test("fuzz chunked: adversarial bodies are decoded in linear time", () => {
  const adversarial = [
    "1\r\na\r\n".repeat(100_000) + "0\r\n\r\n",
    `1;${"x".repeat(60)}\r\na\r\n`.repeat(10_000),
    "0".repeat(1_000_000),
    "0\r\n" + "a: b\r\n".repeat(100_000),
  ];
  const limits = { maxBodyBytes: 1 << 30, maxExtensionBytes: 64, maxTrailerBytes: 1 << 30 };
  for (const text of adversarial) {
    const started = performance.now();
    decode(latin1(text), [], limits);
    assert.ok(performance.now() - started < 2000, `slow on ${JSON.stringify(text.slice(0, 20))}`);
  }
});
