/** Messages out of frames: continuation rules, UTF-8 across fragments, sizes, close payloads. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Frame, OP_BINARY, OP_CONTINUATION, OP_TEXT } from "../../src/ws/frame.ts";
import { isValidCloseCode, MessageAssembler, parseClosePayload } from "../../src/ws/message.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) =>
  new Uint8Array(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));

function frame(opcode: number, payload: Uint8Array | string, fin = true, rsv1 = false): Frame {
  return { opcode, fin, rsv1, payload: typeof payload === "string" ? utf8(payload) : payload };
}

/** Feeds frames as the session does; returns the messages, or the first failure's code. */
function assemble(frames: Frame[], max = 1 << 20): (string | number[] | { code: number })[] {
  const assembler = new MessageAssembler(max);
  const out: (string | number[] | { code: number })[] = [];
  for (const f of frames) {
    const start = assembler.begin(f);
    if (start.kind === "failure") return [...out, { code: start.code }];
    const result = assembler.append(f.payload, f.fin);
    if (result === null) continue;
    if (typeof result === "string") out.push(result);
    else if (result instanceof ArrayBuffer) out.push([...new Uint8Array(result)]);
    else return [...out, { code: result.code }];
  }
  return out;
}

const cases: [string, Frame[], ReturnType<typeof assemble>][] = [
  ["one text frame", [frame(OP_TEXT, "Hello")], ["Hello"]],
  ["an empty text frame", [frame(OP_TEXT, "")], [""]],
  ["a binary frame", [frame(OP_BINARY, hex("01 02"))], [[1, 2]]],
  [
    "text in three fragments",
    [frame(OP_TEXT, "Hel", false), frame(OP_CONTINUATION, "l", false), frame(OP_CONTINUATION, "o")],
    ["Hello"],
  ],
  [
    "binary in two fragments",
    [frame(OP_BINARY, hex("01"), false), frame(OP_CONTINUATION, hex("02 03"))],
    [[1, 2, 3]],
  ],
  [
    "empty fragments",
    [frame(OP_TEXT, "", false), frame(OP_CONTINUATION, "", false), frame(OP_CONTINUATION, "")],
    [""],
  ],
  [
    "a character split across fragments",
    [frame(OP_TEXT, hex("ce"), false), frame(OP_CONTINUATION, hex("ba"))],
    ["κ"],
  ],
  [
    "two messages in a row",
    [frame(OP_TEXT, "a"), frame(OP_BINARY, hex("ff"))],
    ["a", [255]],
  ],
  [
    "a continuation with nothing to continue (1002)",
    [frame(OP_CONTINUATION, "x")],
    [{ code: 1002 }],
  ],
  [
    "a new message before the last one's final frame (1002)",
    [frame(OP_TEXT, "a", false), frame(OP_TEXT, "b")],
    [{ code: 1002 }],
  ],
  [
    "RSV1 on a continuation (1002)",
    [frame(OP_TEXT, "a", false, true), frame(OP_CONTINUATION, "b", true, true)],
    [{ code: 1002 }],
  ],
  ["invalid UTF-8 in one frame (1007)", [frame(OP_TEXT, hex("ce ba ed a0 80"))], [{
    code: 1007,
  }]],
  ["a truncated character at the end (1007)", [frame(OP_TEXT, hex("ce"))], [{ code: 1007 }]],
  [
    "a truncated character at the end of the last fragment (1007)",
    [frame(OP_TEXT, "a", false), frame(OP_CONTINUATION, hex("e2 82"))],
    [{ code: 1007 }],
  ],
];
for (const [name, frames, expected] of cases) {
  Deno.test(`MessageAssembler: ${name}`, () => assert.deepEqual(assemble(frames), expected));
}

Deno.test("MessageAssembler fails invalid UTF-8 in the fragment that holds it, not at the end", () => {
  const assembler = new MessageAssembler(1000);
  const first = frame(OP_TEXT, hex("ce ba e1 bd b9 cf 83 ce bc ce b5"), false);
  assembler.begin(first);
  assert.equal(assembler.append(first.payload, false), null);
  // f4 90: above U+10FFFF, invalid at its second byte, while the message has fragments to come.
  const bad = frame(OP_CONTINUATION, hex("f4 90 80 80"), false);
  assembler.begin(bad);
  assert.deepEqual(assembler.append(bad.payload, false), {
    kind: "failure",
    code: 1007,
    reason: "text message is not valid UTF-8",
  });
});

Deno.test("MessageAssembler closes with 1009 once a message outgrows its limit", () => {
  assert.deepEqual(assemble([frame(OP_BINARY, new Uint8Array(11))], 10), [{ code: 1009 }]);
  assert.deepEqual(
    assemble([frame(OP_TEXT, "12345", false), frame(OP_CONTINUATION, "678901")], 10),
    [{ code: 1009 }],
  );
  assert.deepEqual(assemble([frame(OP_TEXT, "1234567890")], 10), ["1234567890"]);
});

Deno.test("MessageAssembler.remaining is what the message in progress may still take", () => {
  const assembler = new MessageAssembler(10);
  const first = frame(OP_BINARY, new Uint8Array(4), false);
  assembler.begin(first);
  assembler.append(first.payload, false);
  assert.equal(assembler.remaining, 6);
  const last = frame(OP_CONTINUATION, new Uint8Array(1));
  assembler.begin(last);
  assembler.append(last.payload, true);
  assert.equal(assembler.remaining, 10);
});

Deno.test("MessageAssembler's messages do not share memory with the frames", () => {
  const payload = hex("01 02 03");
  const assembler = new MessageAssembler(100);
  assembler.begin(frame(OP_BINARY, payload));
  const message = assembler.append(payload, true) as ArrayBuffer;
  payload[0] = 9;
  assert.deepEqual([...new Uint8Array(message)], [1, 2, 3]);
});

Deno.test("text split into fragments anywhere decodes as TextDecoder decodes the whole", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.string({ unit: "grapheme", maxLength: 16 }).map(utf8), // valid text, cut anywhere
      ),
      fc.uniqueArray(fc.integer({ min: 1, max: 63 }), { maxLength: 5 }),
      (bytes, cuts) => {
        const points = [0, ...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b)];
        const frames = points.map((p, i) =>
          frame(
            i === 0 ? OP_TEXT : OP_CONTINUATION,
            bytes.subarray(p, points[i + 1] ?? bytes.length),
            i === points.length - 1,
          )
        );
        let expected: ReturnType<typeof assemble>;
        try {
          expected = [new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes)];
        } catch {
          expected = [{ code: 1007 }];
        }
        assert.deepEqual(assemble(frames), expected);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("close codes: the ones a close frame may carry (Autobahn 7.7.x and 7.9.x)", () => {
  for (
    const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
  ) {
    assert.ok(isValidCloseCode(code), `${code} is valid`);
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    assert.ok(!isValidCloseCode(code), `${code} is not`);
  }
});

const closes: [string, string, unknown][] = [
  ["an empty payload: no status (1005)", "", { kind: "close", code: 1005, reason: "" }],
  ["a code alone", "03 e8", { kind: "close", code: 1000, reason: "" }],
  ["a code and a reason", "0f a0 68 69", { kind: "close", code: 4000, reason: "hi" }],
  ["one byte (1002)", "03", { kind: "failure", code: 1002, reason: "close frame of one byte" }],
  ["code 1005 (1002)", "03 ed", { kind: "failure", code: 1002, reason: "invalid close code 1005" }],
  ["code 999 (1002)", "03 e7", { kind: "failure", code: 1002, reason: "invalid close code 999" }],
  [
    "a reason that is not UTF-8 (1007)",
    "03 e8 ce ba ed a0 80",
    { kind: "failure", code: 1007, reason: "close reason is not valid UTF-8" },
  ],
];
for (const [name, payload, expected] of closes) {
  Deno.test(`parseClosePayload: ${name}`, () => {
    assert.deepEqual(parseClosePayload(hex(payload)), expected);
  });
}
