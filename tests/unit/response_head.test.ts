/**
 * The proxy client's response-head parser (src/http1/response_head.ts) and the framing of the
 * body after it: tables of valid and invalid heads, and properties over generated heads split at
 * every byte.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseResponseHead,
  responseFraming,
  type ResponseHead,
} from "../../src/http1/response_head.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

function complete(text: string): { head: ResponseHead; length: number } {
  const result = parseResponseHead(bytes(text));
  assert.equal(result.status, "complete", `${JSON.stringify(text)}: ${JSON.stringify(result)}`);
  return result as { status: "complete"; head: ResponseHead; length: number };
}

Deno.test("a valid response head parses to its version, status, reason and fields", () => {
  const table: [string, ResponseHead][] = [
    ["HTTP/1.1 200 OK\r\n\r\n", { minor: 1, status: 200, reason: "OK", fields: [] }],
    ["HTTP/1.0 404 Not Found\r\nA: 1\r\n\r\n", {
      minor: 0,
      status: 404,
      reason: "Not Found",
      fields: ["a", "1"],
    }],
    // The reason may be empty, with or without the space before it.
    ["HTTP/1.1 204 \r\n\r\n", { minor: 1, status: 204, reason: "", fields: [] }],
    ["HTTP/1.1 204\r\n\r\n", { minor: 1, status: 204, reason: "", fields: [] }],
    // Names lower-cased, values trimmed of OWS, order and repeats kept, obs-text kept as Latin-1.
    ["HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Y:\t v \t\r\nSet-Cookie: b=2\r\nE:\r\n\r\n", {
      minor: 1,
      status: 200,
      reason: "OK",
      fields: ["set-cookie", "a=1", "x-y", "v", "set-cookie", "b=2", "e", ""],
    }],
    ["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", {
      minor: 1,
      status: 101,
      reason: "Switching Protocols",
      fields: ["upgrade", "websocket"],
    }],
    ["HTTP/1.1 599 any \x80reason\r\n\r\n", {
      minor: 1,
      status: 599,
      reason: "any \x80reason",
      fields: [],
    }],
  ];
  for (const [text, expected] of table) {
    // One byte per character: obs-text (0x80) is a byte, not UTF-8.
    const raw = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const result = parseResponseHead(raw);
    assert.deepEqual(result, { status: "complete", head: expected, length: raw.length }, text);
  }
  // The length is the head's: the body's bytes after it are left alone.
  assert.equal(complete("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").length, 38);
});

Deno.test("a malformed response head is an error that says what is wrong", () => {
  const table: [string, RegExp][] = [
    ["HTTP/2.0 200 OK\r\n\r\n", /HTTP\/2\.0 is not HTTP\/1\.0 or HTTP\/1\.1/],
    ["HTTP/1.2 200 OK\r\n\r\n", /HTTP\/1\.2/],
    ["http/1.1 200 OK\r\n\r\n", /must start with "HTTP\/"/],
    ["HTTP/1.1  200 OK\r\n\r\n", /three digits after one space/],
    ["HTTP/1.1 20 OK\r\n\r\n", /three digits/],
    ["HTTP/1.1 2000 OK\r\n\r\n", /invalid byte 0x30 in the status line/],
    ["HTTP/1.1 099 Low\r\n\r\n", /below 100/],
    ["HTTP/1.1 200 O\x01K\r\n\r\n", /invalid byte 0x01 in the status line/],
    ["HTTP/1.1 200 OK\n\n", /bare LF/],
    ["HTTP/1.1 200 OK\r\nA: 1\n\r\n", /bare LF/],
    ["HTTP/1.1 200 OK\r\nA: 1\rB: 2\r\n\r\n", /bare CR/],
    ["HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", /obsolete line folding/],
    ["HTTP/1.1 200 OK\r\nA : 1\r\n\r\n", /whitespace between a field name and its colon/],
    ["HTTP/1.1 200 OK\r\n: 1\r\n\r\n", /empty field name/],
    ["HTTP/1.1 200 OK\r\nA(b): 1\r\n\r\n", /field name must be a token/],
    ["HTTP/1.1 200 OK\r\nA: x\x00y\r\n\r\n", /invalid byte 0x00 in the value of field "a"/],
  ];
  for (const [text, reason] of table) {
    const result = parseResponseHead(bytes(text));
    assert.equal(result.status, "error", text);
    assert.match((result as { reason: string }).reason, reason, text);
  }
});

Deno.test("a response head over the limits is an error, before its end arrives", () => {
  const limits = { maxHeadBytes: 64, maxFieldCount: 2 };
  const long = bytes(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(60)}`);
  assert.deepEqual(parseResponseHead(long.subarray(0, 63), limits), { status: "incomplete" });
  assert.match(
    (parseResponseHead(long, limits) as { reason: string }).reason,
    /larger than 64 bytes/,
  );
  const many = bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  assert.match((parseResponseHead(many, limits) as { reason: string }).reason, /more than 2/);
});

Deno.test("the body's framing follows RFC 9112 §6.3, refusing ambiguous fields", () => {
  const framing = (fields: string, method = "GET", status = "200 OK") =>
    responseFraming(complete(`HTTP/1.1 ${status}\r\n${fields}\r\n`).head, method);
  assert.deepEqual(framing("Content-Length: 12\r\n"), { kind: "length", length: 12 });
  assert.deepEqual(framing("Content-Length: 3, 3\r\nContent-Length: 3\r\n"), {
    kind: "length",
    length: 3,
  });
  assert.deepEqual(framing("Transfer-Encoding: chunked\r\n"), { kind: "chunked" });
  assert.deepEqual(framing(""), { kind: "close" });
  assert.deepEqual(framing("Transfer-Encoding: gzip\r\n"), { kind: "close" });
  // No body whatever the fields say: HEAD, 1xx, 204, 304.
  assert.deepEqual(framing("Content-Length: 12\r\n", "HEAD"), { kind: "none" });
  assert.deepEqual(framing("Content-Length: 12\r\n", "GET", "304 Not Modified"), {
    kind: "none",
  });
  assert.deepEqual(framing("", "GET", "204 No Content"), { kind: "none" });
  assert.deepEqual(framing("", "GET", "100 Continue"), { kind: "none" });
  const errors: [string, RegExp][] = [
    ["Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", /both/],
    ["Content-Length: 3\r\nContent-Length: 4\r\n", /different values/],
    ["Content-Length: -1\r\n", /not a number/],
    ["Content-Length: 0x10\r\n", /not a number/],
    ["Content-Length:\r\n", /not a number/],
    ["Transfer-Encoding: gzip, chunked\r\n", /"gzip" is not supported/],
  ];
  for (const [fields, reason] of errors) {
    const result = framing(fields);
    assert.equal(result.kind, "error", fields);
    assert.match((result as { reason: string }).reason, reason, fields);
  }
  const old = complete("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").head;
  assert.equal(responseFraming(old, "GET").kind, "error");
});

const token = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_!#$%&'*+.^`|~"),
  minLength: 1,
  maxLength: 12,
});
const value = fc.string({
  unit: fc.constantFrom(...'abc XYZ 019 ;=,/:"()[]{}?@\t'),
  maxLength: 20,
}).map((v) => v.trim());
const generatedHead = fc.record({
  minor: fc.constantFrom(0, 1),
  status: fc.integer({ min: 100, max: 999 }),
  reason: fc.string({ unit: fc.constantFrom(..."abc XYZ\t-"), maxLength: 12 }),
  fields: fc.array(fc.tuple(token, value), { maxLength: 8 }),
  body: fc.string({ maxLength: 16 }),
});

Deno.test("property: a serialised head parses back, split at every byte", () => {
  fc.assert(
    fc.property(generatedHead, ({ minor, status, reason, fields, body }) => {
      const head = `HTTP/1.${minor} ${status} ${reason}\r\n` +
        fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n";
      const input = bytes(head + body);
      const expected = {
        status: "complete",
        head: {
          minor,
          status,
          reason,
          fields: fields.flatMap(([n, v]) => [n.toLowerCase(), v]),
        },
        length: bytes(head).length,
      };
      for (let cut = 0; cut <= input.length; cut++) {
        const result = parseResponseHead(input.subarray(0, cut));
        if (cut < expected.length) assert.deepEqual(result, { status: "incomplete" });
        else assert.deepEqual(result, expected);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: any bytes give complete, incomplete or error; a prefix agrees with the whole", () => {
  const noisy = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    // Near-valid heads with one byte changed: the interesting errors.
    fc.tuple(generatedHead, fc.nat(), fc.integer({ min: 0, max: 255 })).map(
      ([{ minor, status, reason, fields }, at, byte]) => {
        const text = `HTTP/1.${minor} ${status} ${reason}\r\n` +
          fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n";
        const raw = bytes(text);
        raw[at % raw.length] = byte;
        return raw;
      },
    ),
  );
  fc.assert(
    fc.property(noisy, (input) => {
      const whole = parseResponseHead(input);
      assert.ok(["complete", "incomplete", "error"].includes(whole.status));
      for (let cut = 0; cut < input.length; cut++) {
        const part = parseResponseHead(input.subarray(0, cut));
        if (part.status !== "incomplete") assert.deepEqual(part, whole);
      }
    }),
    { numRuns: 500 },
  );
});
