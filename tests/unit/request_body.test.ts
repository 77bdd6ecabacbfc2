/** Body framing (RFC 9112 §6) and the chunked decoder (§7.1). */
import assert from "node:assert/strict";
import {
  ChunkedDecoder,
  type ChunkedLimits,
  IncomingBody,
  requestFraming,
} from "../../src/http1/request_body.ts";
import { HttpError } from "../../src/errors.ts";
import { BufferedReader } from "../../src/io/reader.ts";
import { parseHead } from "../../src/http1/parse.ts";
import { DEFAULT_LIMITS } from "../../src/options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function framingOf(fields: string, version = "1.1", maxBody = 1000) {
  const bytes = encoder.encode(`POST / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`);
  return requestFraming(parseHead(bytes, 0, bytes.length, DEFAULT_LIMITS), maxBody);
}

const framings: [string, string, unknown][] = [
  ["no framing fields", "", { kind: "none" }],
  ["Content-Length", "Content-Length: 5\r\n", { kind: "length", length: 5 }],
  ["Content-Length zero", "Content-Length: 0\r\n", { kind: "length", length: 0 }],
  ["leading zeros", "Content-Length: 007\r\n", { kind: "length", length: 7 }],
  ["identical duplicates", "Content-Length: 5\r\nContent-Length: 5\r\n", {
    kind: "length",
    length: 5,
  }],
  ["identical list", "Content-Length: 5, 5\r\n", { kind: "length", length: 5 }],
  ["chunked", "Transfer-Encoding: chunked\r\n", { kind: "chunked" }],
  ["chunked any case", "Transfer-Encoding: ChUnKeD\r\n", { kind: "chunked" }],
  ["chunked with empty list elements", "Transfer-Encoding: , chunked\r\n", { kind: "chunked" }],
];
for (const [name, fields, expected] of framings) {
  Deno.test(`framing: ${name}`, () => assert.deepEqual(framingOf(fields), expected));
}

const badFramings: [string, string, number, string?][] = [
  ["differing Content-Length fields", "Content-Length: 5\r\nContent-Length: 6\r\n", 400],
  ["differing Content-Length list", "Content-Length: 5, 6\r\n", 400],
  ["signed Content-Length", "Content-Length: +5\r\n", 400],
  ["negative Content-Length", "Content-Length: -1\r\n", 400],
  ["hex Content-Length", "Content-Length: 0x5\r\n", 400],
  ["Content-Length with inner space", "Content-Length: 1 2\r\n", 400],
  ["empty Content-Length", "Content-Length:\r\n", 400],
  ["Content-Length over the limit", "Content-Length: 1001\r\n", 413],
  ["huge Content-Length", "Content-Length: 99999999999999999999999\r\n", 413],
  ["TE and CL together (CL.TE)", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400],
  ["TE and CL together (TE.CL)", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400],
  ["chunked twice", "Transfer-Encoding: chunked, chunked\r\n", 400],
  [
    "chunked twice in two fields",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    400,
  ],
  ["chunked not last", "Transfer-Encoding: chunked, gzip\r\n", 400],
  ["empty Transfer-Encoding", "Transfer-Encoding:\r\n", 400],
  ["gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", 501],
  ["unknown coding", "Transfer-Encoding: xchunked\r\n", 501],
  ["identity", "Transfer-Encoding: identity\r\n", 501],
  ["quoted chunked", 'Transfer-Encoding: "chunked"\r\n', 501],
];
for (const [name, fields, status] of badFramings) {
  Deno.test(`framing rejects with ${status}: ${name}`, () => {
    assert.throws(
      () => framingOf(fields),
      (e: unknown) => e instanceof HttpError && e.status === status,
    );
  });
}

Deno.test("framing: Transfer-Encoding in HTTP/1.0 is faulty framing (400)", () => {
  assert.throws(
    () => framingOf("Transfer-Encoding: chunked\r\n", "1.0"),
    (e: unknown) => e instanceof HttpError && e.status === 400,
  );
});

const LIMITS: ChunkedLimits = { maxBodyBytes: 1 << 20, maxExtensionBytes: 64, maxTrailerBytes: 64 };

/** Decodes `input` fed in the given pieces; returns body text and bytes consumed. */
function decodeInPieces(input: Uint8Array, cuts: number[], limits = LIMITS) {
  const chunked = new ChunkedDecoder(limits);
  let body = "";
  let consumed = 0;
  const bounds = [0, ...cuts, input.length];
  // Bytes the decoder did not take stay buffered, as the reader keeps them.
  let pending = new Uint8Array(0);
  for (let i = 0; i + 1 < bounds.length && !chunked.done; i++) {
    const piece = new Uint8Array(pending.length + bounds[i + 1] - bounds[i]);
    piece.set(pending);
    piece.set(input.subarray(bounds[i], bounds[i + 1]), pending.length);
    const used = chunked.decode(piece, 0, piece.length, (data) => body += decoder.decode(data));
    consumed += used;
    pending = piece.slice(used);
  }
  return { body, consumed, done: chunked.done };
}

const MESSAGE = '4\r\nWiki\r\n6;name=value;x="q"\r\npedia \r\nE\r\n in\r\n\r\nchunks.\r\n' +
  "0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n";
const NEXT = "GET /next HTTP/1.1\r\n";

Deno.test("chunked: the same message split at every byte boundary gives the same result", () => {
  const input = encoder.encode(MESSAGE + NEXT);
  const whole = decodeInPieces(input, []);
  assert.equal(whole.body, "Wikipedia  in\r\n\r\nchunks.");
  assert.equal(whole.consumed, MESSAGE.length, "stops exactly at the end of the message");
  assert.ok(whole.done);
  for (let cut = 1; cut < input.length; cut++) {
    assert.deepEqual(decodeInPieces(input, [cut]), whole, `split at ${cut}`);
  }
  // And one byte at a time.
  const bytewise = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(decodeInPieces(input, bytewise), whole);
});

Deno.test("chunked: upper and lower case hex, leading zeros, blanks before an extension", () => {
  const input = encoder.encode("0000A\r\n0123456789\r\na ; ext\r\nabcdefghij\r\n0\r\n\r\n");
  assert.deepEqual(decodeInPieces(input, []), {
    body: "0123456789abcdefghij",
    consumed: input.length,
    done: true,
  });
});

const badChunks: [string, string, number][] = [
  ["no size", "\r\nabc\r\n0\r\n\r\n", 400],
  ["non-hex size", "g\r\n", 400],
  ["signed size", "+5\r\nhello\r\n0\r\n\r\n", 400],
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400],
  ["bare LF after size", "5\nhello\r\n0\r\n\r\n", 400],
  ["bare CR after size", "5\rhello\r\n0\r\n\r\n", 400],
  ["blank after size without extension", "5 \r\nhello\r\n0\r\n\r\n", 400],
  ["data longer than size", "3\r\nhello\r\n0\r\n\r\n", 400],
  ["bare LF after data", "5\r\nhello\n0\r\n\r\n", 400],
  ["missing CRLF after data", "5\r\nhello0\r\n\r\n", 400],
  ["too many size digits (overflow guard)", "00000000000000001\r\n", 400],
  ["size over the body limit", "fffffffffffff\r\n", 413],
  ["extension too long", `1;${"x".repeat(100)}\r\na\r\n0\r\n\r\n`, 400],
  ["control byte in extension", "1;a\x01\r\na\r\n0\r\n\r\n", 400],
  ["NUL in trailer", "0\r\nX: a\x00\r\n\r\n", 400],
  ["bare LF in trailer", "0\r\nX: a\n\r\n", 400],
  ["trailer too long", `0\r\nX: ${"v".repeat(100)}\r\n\r\n`, 431],
  ["bare LF at end", "0\r\n\n", 400],
];
for (const [name, text, status] of badChunks) {
  Deno.test(`chunked rejects with ${status}: ${name}`, () => {
    const input = encoder.encode(text);
    assert.throws(
      () => decodeInPieces(input, []),
      (e: unknown) => e instanceof HttpError && e.status === status,
    );
  });
}

Deno.test("chunked: the body limit counts the sum of all chunks", () => {
  const limits = { ...LIMITS, maxBodyBytes: 10 };
  const ok = encoder.encode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
  assert.equal(decodeInPieces(ok, [], limits).body, "helloworld");
  const over = encoder.encode("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");
  assert.throws(() => decodeInPieces(over, [], limits), (e: HttpError) => e.status === 413);
});

/** A source that hands out `data` in reads of at most `step` bytes. */
function trickle(data: Uint8Array, step: number) {
  let off = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (off >= data.length) return Promise.resolve(null);
      const n = Math.min(step, p.length, data.length - off);
      p.set(data.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
}

async function readBody(body: IncomingBody): Promise<string> {
  let text = "";
  for (let piece = await body.read(); piece !== null; piece = await body.read()) {
    text += decoder.decode(piece);
  }
  return text;
}

Deno.test("IncomingBody: Content-Length body read lazily across 1-byte reads", async () => {
  const reader = new BufferedReader(trickle(encoder.encode("hello worldNEXT"), 1));
  const body = new IncomingBody(reader, { kind: "length", length: 11 }, LIMITS, null);
  assert.equal(body.state, "unread");
  assert.equal(await readBody(body), "hello world");
  assert.equal(body.state, "done");
  const rest = await reader.readFull(4);
  assert.equal(rest.status === "full" && decoder.decode(rest.bytes), "NEXT");
});

Deno.test("IncomingBody: chunked body across 3-byte reads, then the next request", async () => {
  const reader = new BufferedReader(trickle(encoder.encode(MESSAGE + NEXT), 3));
  const body = new IncomingBody(reader, { kind: "chunked" }, LIMITS, null);
  assert.equal(await readBody(body), "Wikipedia  in\r\n\r\nchunks.");
  const rest = await reader.readUntil("\r\n", 100);
  assert.equal(rest.status === "found" && decoder.decode(rest.bytes), NEXT);
});

Deno.test("IncomingBody: a body cut short by the peer is a 400, and the state says failed", async () => {
  for (const framing of [{ kind: "length", length: 20 }, { kind: "chunked" }] as const) {
    const reader = new BufferedReader(trickle(encoder.encode("5\r\nhello\r\n"), 4));
    const body = new IncomingBody(reader, framing, LIMITS, null);
    await assert.rejects(readBody(body), (e: HttpError) => e.status === 400);
    assert.equal(body.state, "failed");
  }
});

Deno.test("IncomingBody: the first read runs the 100-continue hook once, drain does not", async () => {
  let calls = 0;
  const hook = () => {
    calls++;
    return Promise.resolve();
  };
  const read = new IncomingBody(
    new BufferedReader(trickle(encoder.encode("abc"), 1)),
    { kind: "length", length: 3 },
    LIMITS,
    hook,
  );
  assert.equal(await readBody(read), "abc");
  assert.equal(calls, 1);
  const drained = new IncomingBody(
    new BufferedReader(trickle(encoder.encode("abc"), 1)),
    { kind: "length", length: 3 },
    LIMITS,
    hook,
  );
  assert.equal(await drained.drain(10), true);
  assert.equal(calls, 1);
});

Deno.test("IncomingBody: drain refuses bodies over its bound", async () => {
  const big = new IncomingBody(
    new BufferedReader(trickle(new Uint8Array(100), 100)),
    { kind: "length", length: 100 },
    LIMITS,
    null,
  );
  assert.equal(await big.drain(99), false);
  const chunked = new IncomingBody(
    new BufferedReader(trickle(encoder.encode("64\r\n" + "x".repeat(100) + "\r\n0\r\n\r\n"), 7)),
    { kind: "chunked" },
    LIMITS,
    null,
  );
  assert.equal(await chunked.drain(50), false);
});

Deno.test("IncomingBody: no drain while the handler's read is in flight (the connection closes)", async () => {
  // The first socket read is held (the client has not sent the body); any later one ends it.
  let reads = 0;
  let answer: (n: number | null) => void = () => {};
  const reader = new BufferedReader({
    read(p: Uint8Array): Promise<number | null> {
      reads++;
      if (reads > 1) return Promise.resolve(null);
      return new Promise((resolve) => {
        answer = (n) => {
          if (n !== null) p.set(new TextEncoder().encode("hello").subarray(0, n));
          resolve(n);
        };
      });
    },
  });
  const body = new IncomingBody(reader, { kind: "length", length: 5 }, LIMITS, null);
  const handlerRead = body.read();
  assert.equal(await body.drain(1024), false, "refused: the body is being read");
  assert.equal(reads, 1, "the drain did not read the socket alongside the handler");
  answer(5);
  assert.equal(new TextDecoder().decode((await handlerRead)!), "hello");
});
