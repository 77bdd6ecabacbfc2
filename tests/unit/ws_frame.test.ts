/** RFC 6455 §5 frames: the parser's verdicts, the encoders' bytes, and streams split anywhere. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  closePayload,
  encodeFrame,
  encodeTextFrame,
  type Frame,
  frameExtent,
  type FrameRules,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseFrame,
  unmask,
} from "../../src/ws/frame.ts";

const SERVER: FrameRules = { masked: true, rsv1: false, maxPayload: 1 << 20 };
const CLIENT: FrameRules = { masked: false, rsv1: false, maxPayload: 1 << 20 };
const text = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) =>
  new Uint8Array(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function parseAll(bytes: Uint8Array, rules: FrameRules) {
  return parseFrame(bytes.slice(), 0, bytes.length, rules);
}

// RFC 6455 §5.7's examples, and the three length encodings.
const complete: [string, Uint8Array, FrameRules, Partial<Frame>, number][] = [
  ["unmasked 'Hello'", hex("81 05 48 65 6c 6c 6f"), CLIENT, { opcode: OP_TEXT, fin: true }, 7],
  [
    "masked 'Hello'",
    hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    SERVER,
    { opcode: OP_TEXT, fin: true, payload: text("Hello") },
    11,
  ],
  ["first fragment 'Hel'", hex("01 03 48 65 6c"), CLIENT, { opcode: OP_TEXT, fin: false }, 5],
  ["last fragment 'lo'", hex("80 02 6c 6f"), CLIENT, { opcode: OP_CONTINUATION, fin: true }, 4],
  ["unmasked ping", hex("89 05 48 65 6c 6c 6f"), CLIENT, { opcode: OP_PING }, 7],
  [
    "masked pong",
    hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    SERVER,
    { opcode: OP_PONG, payload: text("Hello") },
    11,
  ],
  ["empty close", hex("88 80 01 02 03 04"), SERVER, { opcode: OP_CLOSE, payload: text("") }, 6],
  [
    "256 bytes, 16-bit length",
    new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...new Uint8Array(256)]),
    CLIENT,
    { opcode: OP_BINARY, payload: new Uint8Array(256) },
    260,
  ],
  [
    "64 KiB, 64-bit length",
    new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...new Uint8Array(65536)]),
    CLIENT,
    { opcode: OP_BINARY, payload: new Uint8Array(65536) },
    65546,
  ],
  [
    "RSV1 with an extension",
    hex("c1 80 00 00 00 00"),
    { ...SERVER, rsv1: true },
    { rsv1: true, opcode: OP_TEXT },
    6,
  ],
];
for (const [name, bytes, rules, expected, consumed] of complete) {
  Deno.test(`parseFrame reads ${name}`, () => {
    const parsed = parseAll(bytes, rules);
    assert.equal(parsed.kind, "frame");
    if (parsed.kind !== "frame") return;
    assert.equal(parsed.consumed, consumed);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(parsed.frame[key as keyof Frame], value, key);
    }
  });
}

// Every way a single frame can break the rules, with the close code it earns.
const errors: [string, string, FrameRules, number][] = [
  ["RSV2 set", "a1 80 00 00 00 00", SERVER, 1002],
  ["RSV3 set", "91 80 00 00 00 00", SERVER, 1002],
  ["RSV1 without an extension", "c1 80 00 00 00 00", SERVER, 1002],
  ["RSV1 on a ping even with an extension", "c9 80 00 00 00 00", { ...SERVER, rsv1: true }, 1002],
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, string, FrameRules, number] => [
    `reserved opcode ${op}`,
    `${(0x80 | op).toString(16)} 80 00 00 00 00`,
    SERVER,
    1002,
  ]),
  ["a fragmented ping", "09 80 00 00 00 00", SERVER, 1002],
  ["a fragmented close", "08 80 00 00 00 00", SERVER, 1002],
  ["a ping of 126 bytes", "89 fe 00 7e", SERVER, 1002],
  ["an unmasked client frame", "81 00", SERVER, 1002],
  ["a masked server frame", "81 80 00 00 00 00", CLIENT, 1002],
  ["a 64-bit length with its top bit set", "82 ff 80 00 00 00 00 00 00 00", SERVER, 1002],
  ["a payload over the limit", "82 fe 01 01", { ...SERVER, maxPayload: 256 }, 1009],
  ["a 2^62-byte payload", "82 ff 40 00 00 00 00 00 00 00", SERVER, 1009],
];
for (const [name, bytes, rules, code] of errors) {
  Deno.test(`parseFrame closes with ${code} on ${name}`, () => {
    const parsed = parseAll(hex(bytes), rules);
    assert.equal(parsed.kind, "error");
    if (parsed.kind === "error") assert.equal(parsed.code, code);
  });
}

const incomplete: [string, string, number][] = [
  ["nothing", "", 2],
  ["one byte", "81", 2],
  ["a 16-bit length's first byte", "82 fe 01", 8],
  ["a 64-bit length's first bytes", "82 ff 00 00", 14],
  ["the masking key's first bytes (the length is known)", "81 85 37 fa", 11],
  ["half a payload", "81 85 37 fa 21 3d 7f 9f", 11],
];
for (const [name, bytes, needed] of incomplete) {
  Deno.test(`parseFrame asks for ${needed} bytes given ${name}`, () => {
    const input = hex(bytes);
    const copy = input.slice();
    assert.deepEqual(parseFrame(input, 0, input.length, SERVER), { kind: "incomplete", needed });
    assert.deepEqual(input, copy, "an incomplete frame is left as it was");
  });
}

Deno.test("parseFrame reads from the offset it is given, within the end it is given", () => {
  const bytes = new Uint8Array([0xff, 0xff, ...hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 0x81]);
  const parsed = parseFrame(bytes, 2, 13, SERVER);
  assert.equal(parsed.kind, "frame");
  if (parsed.kind === "frame") {
    assert.equal(new TextDecoder().decode(parsed.frame.payload), "Hello");
  }
  assert.deepEqual(parseFrame(bytes, 2, 12, SERVER), { kind: "incomplete", needed: 11 });
});

const encodings: [string, number, Uint8Array, string][] = [
  ["an empty frame", OP_TEXT, new Uint8Array(0), "81 00"],
  ["125 bytes: 7-bit length", OP_BINARY, new Uint8Array(125), "82 7d"],
  ["126 bytes: 16-bit length", OP_BINARY, new Uint8Array(126), "82 7e 00 7e"],
  ["65535 bytes: 16-bit length", OP_BINARY, new Uint8Array(65535), "82 7e ff ff"],
  ["65536 bytes: 64-bit length", OP_BINARY, new Uint8Array(65536), "82 7f 00 00 00 00 00 01 00 00"],
];
for (const [name, opcode, payload, header] of encodings) {
  Deno.test(`encodeFrame writes ${name}`, () => {
    const frame = encodeFrame(opcode, payload);
    const head = hex(header);
    assert.deepEqual(frame.subarray(0, head.length), head);
    assert.equal(frame.length, head.length + payload.length);
  });
}

Deno.test("encodeFrame writes RFC 6455's masked 'Hello' with its masking key", () => {
  const frame = encodeFrame(OP_TEXT, text("Hello"), { mask: hex("37 fa 21 3d") });
  assert.deepEqual(frame, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
});

Deno.test("encodeFrame sets FIN and RSV1 as asked", () => {
  assert.deepEqual(encodeFrame(OP_TEXT, text("a"), { fin: false }).subarray(0, 1), hex("01"));
  assert.deepEqual(encodeFrame(OP_BINARY, text("a"), { rsv1: true }).subarray(0, 1), hex("c2"));
});

Deno.test("encodeTextFrame gives the bytes encodeFrame gives for the UTF-8", () => {
  const samples = ["", "a", "é".repeat(41), "€".repeat(42), "x".repeat(125), "x".repeat(126)];
  samples.push("😀".repeat(20000), "y".repeat(70000), "a\uD800b"); // a lone surrogate becomes U+FFFD
  for (const s of samples) {
    assert.ok(sameBytes(encodeTextFrame(s), encodeFrame(OP_TEXT, text(s))), `length ${s.length}`);
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
      assert.deepEqual(encodeTextFrame(s), encodeFrame(OP_TEXT, text(s)));
    }),
  );
});

Deno.test("closePayload is the code in network order and the UTF-8 reason, or nothing", () => {
  assert.deepEqual(closePayload(undefined), new Uint8Array(0));
  assert.deepEqual(closePayload(1000), hex("03 e8"));
  assert.deepEqual(closePayload(4999, "é"), hex("13 87 c3 a9"));
});

Deno.test("unmask XORs like the byte-by-byte definition at every alignment and length", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 0, max: 7 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      (data, offset, key) => {
        const backing = new Uint8Array(offset + data.length);
        backing.set(data, offset);
        const payload = backing.subarray(offset);
        unmask(payload, key, 0);
        assert.deepEqual(payload, data.map((b, i) => b ^ key[i % 4]));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("frameExtent measures frames without judging them", () => {
  assert.deepEqual(frameExtent(hex("f3 00"), 0, 2), { kind: "frame", opcode: 3, consumed: 2 });
  assert.deepEqual(frameExtent(hex("88 82 00 00 00 00 03"), 0, 7), {
    kind: "incomplete",
    opcode: OP_CLOSE,
    needed: 8,
  });
  assert.deepEqual(frameExtent(hex("82"), 0, 1), { kind: "incomplete", opcode: 2, needed: 2 });
});

/** A client's frame as fast-check draws it. */
const clientFrame = fc.record({
  fin: fc.boolean(),
  opcode: fc.constantFrom(OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG),
  payload: fc.uint8Array({ maxLength: 300 }),
  mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
}).map((f) => {
  const control = f.opcode >= OP_CLOSE;
  return { ...f, fin: control || f.fin, payload: control ? f.payload.subarray(0, 125) : f.payload };
});

/** Decodes `stream` fed in pieces cut at `cuts`, buffering partial frames as a reader does. */
function decodePieces(stream: Uint8Array, cuts: number[]): Frame[] {
  const frames: Frame[] = [];
  let buffer = new Uint8Array(0);
  const points = [0, ...cuts, stream.length];
  for (let p = 1; p < points.length; p++) {
    const next = new Uint8Array(buffer.length + points[p] - points[p - 1]);
    next.set(buffer);
    next.set(stream.subarray(points[p - 1], points[p]), buffer.length);
    buffer = next;
    let start = 0;
    for (;;) {
      const parsed = parseFrame(buffer, start, buffer.length, SERVER);
      if (parsed.kind === "error") throw new Error(parsed.reason);
      if (parsed.kind === "incomplete") break;
      frames.push({ ...parsed.frame, payload: parsed.frame.payload.slice() });
      start += parsed.consumed;
    }
    buffer = buffer.slice(start);
  }
  assert.equal(buffer.length, 0);
  return frames;
}

Deno.test("a stream of frames split at every byte boundary decodes to the frames encoded", () => {
  fc.assert(
    fc.property(fc.array(clientFrame, { minLength: 1, maxLength: 5 }), (frames) => {
      const encoded = frames.map((f) =>
        encodeFrame(f.opcode, f.payload, { fin: f.fin, mask: f.mask })
      );
      const stream = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
      encoded.reduce((at, e) => (stream.set(e, at), at + e.length), 0);
      const expected = frames.map((f) => ({
        fin: f.fin,
        rsv1: false,
        opcode: f.opcode,
        payload: f.payload,
      }));
      assert.deepEqual(decodePieces(stream, []), expected);
      for (let cut = 1; cut < stream.length; cut++) {
        assert.deepEqual(decodePieces(stream, [cut]), expected);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("a stream of frames fed in random pieces decodes to the frames encoded", () => {
  const pieces = fc.array(clientFrame, { minLength: 1, maxLength: 8 }).chain((frames) => {
    const encoded = frames.map((f) =>
      encodeFrame(f.opcode, f.payload, { fin: f.fin, mask: f.mask })
    );
    const total = encoded.reduce((n, e) => n + e.length, 0);
    return fc.tuple(
      fc.constant(frames),
      fc.constant(encoded),
      fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, total - 1) }), { maxLength: 20 }),
    );
  });
  fc.assert(
    fc.property(pieces, ([frames, encoded, cuts]) => {
      const stream = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
      encoded.reduce((at, e) => (stream.set(e, at), at + e.length), 0);
      const decoded = decodePieces(
        stream,
        cuts.filter((c) => c < stream.length).sort((a, b) => a - b),
      );
      assert.deepEqual(decoded.map((f) => f.payload), frames.map((f) => f.payload));
    }),
    { numRuns: 500 },
  );
});
