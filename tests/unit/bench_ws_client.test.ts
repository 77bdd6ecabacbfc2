/**
 * The WebSocket load generator's frame code (bench/ws_client.ts): the client frames it pre-builds
 * are valid masked RFC 6455 frames, and its echo counter reads server frames the same however the
 * stream is split.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { EchoCounter, maskedFrame } from "../../bench/ws_client.ts";

/** A server frame (unmasked, FIN set unless `fin` is false) of `opcode` with `length` bytes. */
function serverFrame(opcode: number, length: number, fin = true): Uint8Array {
  const ext = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + ext + length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  const view = new DataView(frame.buffer);
  if (ext === 0) frame[1] = length;
  else if (ext === 2) {
    frame[1] = 126;
    view.setUint16(2, length);
  } else {
    frame[1] = 127;
    view.setBigUint64(2, BigInt(length));
  }
  frame.fill(0x61, 2 + ext);
  return frame;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes a client frame as a server would: FIN, opcode, mask bit, length form, payload. */
function decodeClientFrame(frame: Uint8Array) {
  const len7 = frame[1] & 0x7f;
  const view = new DataView(frame.buffer, frame.byteOffset);
  const [length, at] = len7 === 126
    ? [view.getUint16(2), 4]
    : len7 === 127
    ? [Number(view.getBigUint64(2)), 10]
    : [len7, 2];
  const mask = frame.subarray(at, at + 4);
  const payload = frame.subarray(at + 4).map((b, i) => b ^ mask[i & 3]);
  return {
    fin: (frame[0] & 0x80) !== 0,
    opcode: frame[0] & 0x0f,
    masked: (frame[1] & 0x80) !== 0,
    len7,
    length,
    payload,
  };
}

const LENGTH_FORMS = [
  { bytes: 0, len7: 0 },
  { bytes: 32, len7: 32 },
  { bytes: 125, len7: 125 },
  { bytes: 126, len7: 126 },
  { bytes: 65535, len7: 126 },
  { bytes: 65536, len7: 127 },
];

for (const { bytes, len7 } of LENGTH_FORMS) {
  Deno.test(`maskedFrame: a ${bytes}-byte payload is one masked FIN frame with length form ${len7}`, () => {
    const payload = crypto.getRandomValues(new Uint8Array(bytes));
    const frame = decodeClientFrame(maskedFrame(2, payload));
    assert.deepEqual(
      {
        fin: frame.fin,
        opcode: frame.opcode,
        masked: frame.masked,
        len7: frame.len7,
        length: frame.length,
      },
      { fin: true, opcode: 2, masked: true, len7, length: bytes },
    );
    assert.deepEqual(frame.payload, payload);
  });
}

Deno.test("EchoCounter: counts whole data messages and ignores pings and pongs", () => {
  const counter = new EchoCounter(32);
  const stream = concat([
    serverFrame(1, 32),
    serverFrame(9, 4),
    serverFrame(2, 32),
    serverFrame(10, 0),
    serverFrame(1, 32),
  ]);
  assert.equal(counter.feed(stream), 3);
});

Deno.test("EchoCounter: a fragmented message counts once, at its final fragment", () => {
  const counter = new EchoCounter(64);
  const stream = concat([serverFrame(1, 20, false), serverFrame(0, 44, false), serverFrame(0, 0)]);
  assert.equal(counter.feed(stream), 1);
});

const REJECTED = [
  {
    name: "an echo of the wrong length",
    frame: serverFrame(1, 31),
    message: /echo of 31 bytes, sent 32/,
  },
  { name: "a close frame", frame: serverFrame(8, 2), message: /closed the WebSocket/ },
  {
    name: "a masked server frame",
    frame: Uint8Array.from([0x81, 0x80 | 32, 0, 0, 0, 0, ...new Uint8Array(32)]),
    message: /masked/,
  },
];

for (const { name, frame, message } of REJECTED) {
  Deno.test(`EchoCounter: ${name} is an error`, () => {
    assert.throws(() => new EchoCounter(32).feed(frame), message);
  });
}

Deno.test("EchoCounter: a stream split at every byte boundary counts the same", () => {
  const sizes = [0, 1, 125, 126, 300, 65535, 65536, 70000];
  for (const size of sizes) {
    const stream = concat([serverFrame(2, size), serverFrame(9, 3), serverFrame(2, size)]);
    // Every split point for the small sizes; a spread of them for the large ones.
    const step = Math.max(1, Math.floor(stream.length / 500));
    for (let cut = 0; cut <= stream.length; cut += step) {
      const counter = new EchoCounter(size);
      const counted = counter.feed(stream.subarray(0, cut)) + counter.feed(stream.subarray(cut));
      assert.equal(counted, 2, `size ${size}, cut at ${cut}`);
    }
  }
});

Deno.test("EchoCounter: any split of any run of echoes counts every echo (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 70_000 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 40 }),
      (size, count, chunks) => {
        const stream = concat(Array.from({ length: count }, () => serverFrame(1, size)));
        const counter = new EchoCounter(size);
        let counted = 0;
        let at = 0;
        for (const chunk of chunks) {
          counted += counter.feed(stream.subarray(at, at + chunk));
          at = Math.min(stream.length, at + chunk);
        }
        counted += counter.feed(stream.subarray(at));
        assert.equal(counted, count);
      },
    ),
    { numRuns: 200 },
  );
});
