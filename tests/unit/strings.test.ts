/** The parser's remembered strings: the same text as decoding afresh, whatever came before. */
import assert from "node:assert/strict";
import { latin1, lowerToken } from "../../src/http1/strings.ts";

/** Bytes of a Latin-1 string: one byte per UTF-16 code unit. */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const long = "x".repeat(300);

Deno.test("latin1: decodes each byte as one code unit, the first time and the next", () => {
  const table = [
    "",
    "G",
    "GET",
    "/index.html?q=1",
    "127.0.0.1:8000",
    "caf\xe9 \xff\x80\x9f", // 8-bit bytes (obs-text) stay the code units they are
    long, // longer than what is kept
  ];
  for (const text of table) {
    // Embedded in other bytes, as in a buffer: only the range counts.
    const buf = bytesOf(`<<${text}>>`);
    for (let time = 0; time < 3; time++) {
      assert.equal(latin1(buf, 2, 2 + text.length), text, `${JSON.stringify(text)}, time ${time}`);
    }
  }
});

Deno.test("lowerToken: lower-cases A-Z of a token, whatever case was seen before", () => {
  const table: [string, string][] = [
    ["Host", "host"],
    ["HOST", "host"],
    ["host", "host"],
    ["Content-Type", "content-type"],
    ["X-Custom_1~!#$%&'*+.^`|", "x-custom_1~!#$%&'*+.^`|"],
    ["A".repeat(300), "a".repeat(300)],
  ];
  for (const [sent, expected] of table) {
    const buf = bytesOf(sent);
    for (let time = 0; time < 3; time++) assert.equal(lowerToken(buf, 0, buf.length), expected);
  }
  // The two tables are apart: a name remembered lower-cased is not what latin1 returns.
  assert.equal(latin1(bytesOf("Host"), 0, 4), "Host");
});

Deno.test("latin1: strings that share a slot, and near misses, are never mixed up", () => {
  // Same length and the same first, middle and last bytes: the same slot, different text.
  const rivals = ["a1b2c", "a9b8c", "aXbYc", "a1b2d", "A1b2c"];
  for (let round = 0; round < 4; round++) {
    for (const text of rivals) {
      assert.equal(latin1(bytesOf(text), 0, text.length), text);
      assert.equal(lowerToken(bytesOf(text), 0, text.length), text.toLowerCase());
    }
  }
});

Deno.test("latin1: a run of random ranges over a small alphabet matches a fresh decode", () => {
  // A small alphabet and short lengths make hits, misses and slot collisions all frequent.
  let seed = 42;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
  const alphabet = bytesOf("aAbB-:/\xe9");
  const buf = new Uint8Array(64).map(() => alphabet[random(alphabet.length)]);
  for (let i = 0; i < 20_000; i++) {
    const start = random(buf.length);
    const end = start + random(Math.min(6, buf.length - start) + 1);
    const fresh = String.fromCharCode(...buf.subarray(start, end));
    assert.equal(latin1(buf, start, end), fresh);
    if (!fresh.includes("\xe9")) assert.equal(lowerToken(buf, start, end), fresh.toLowerCase());
  }
});
