/**
 * Autobahn cases 6 and 7 over a socket: UTF-8 handling (with Markus Kuhn's decoder test vectors,
 * as Autobahn's case6_x_x.py draws them) and close handling.
 */
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_TEXT } from "../../src/ws/frame.ts";
import {
  type Case,
  chops,
  clientClose,
  concat,
  frame,
  registerCases,
  text,
} from "../ws_autobahn.ts";

const BYE = [clientClose(1000), { close: 1000 }];
const hex = (s: string) =>
  new Uint8Array(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

const KOSME = hex("ce ba e1 bd b9 cf 83 ce bc ce b5"); // κόσμε
const KOSME_EDITED = hex("ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64");
const MIXED = new TextEncoder().encode("Hello-µ@ßöäüàá-UTF-8!!");

const perByteFragments = (bytes: Uint8Array) =>
  concat(
    ...[...bytes].map((b, i) =>
      frame(i === 0 ? OP_TEXT : OP_CONTINUATION, new Uint8Array([b]), i === bytes.length - 1)
    ),
  );

const basics: Case[] = [
  {
    id: "6.1.1",
    title: "an empty text message is echoed",
    steps: [text(""), { text: "" }, ...BYE],
  },
  {
    id: "6.1.2",
    title: "a text message of three empty fragments is echoed empty",
    steps: [
      concat(text("", false), frame(OP_CONTINUATION, "", false), frame(OP_CONTINUATION, "")),
      { text: "" },
      ...BYE,
    ],
  },
  {
    id: "6.1.3",
    title: "empty, non-empty and empty fragments",
    steps: [
      concat(
        text("", false),
        frame(OP_CONTINUATION, "middle frame payload", false),
        frame(OP_CONTINUATION, ""),
      ),
      { text: "middle frame payload" },
      ...BYE,
    ],
  },
  {
    id: "6.2.1",
    title: "valid UTF-8 in one frame",
    steps: [text(MIXED), { text: decode(MIXED) }, ...BYE],
  },
  {
    id: "6.2.2",
    title: "valid UTF-8 in two fragments cut at a character boundary",
    steps: [
      concat(text(MIXED.subarray(0, 9), false), frame(OP_CONTINUATION, MIXED.subarray(9))),
      { text: decode(MIXED) },
      ...BYE,
    ],
  },
  {
    id: "6.2.3",
    title: "valid UTF-8 in fragments of one byte",
    steps: [perByteFragments(MIXED), { text: decode(MIXED) }, ...BYE],
  },
  {
    id: "6.2.4",
    title: "κόσμε in fragments of one byte",
    steps: [perByteFragments(KOSME), { text: decode(KOSME) }, ...BYE],
  },
  {
    id: "6.3.1",
    title: "invalid UTF-8 (a surrogate) in one frame closes with 1007",
    steps: [text(KOSME_EDITED), { close: 1007 }],
  },
  {
    id: "6.3.2",
    title: "the same in fragments of one byte",
    steps: [perByteFragments(KOSME_EDITED), { close: 1007 }],
  },
  {
    id: "6.4.1",
    title: "fails fast: 1007 after the invalid fragment, before the last one is sent",
    steps: [
      concat(text(KOSME, false), frame(OP_CONTINUATION, hex("f4 90 80 80"), false)),
      { close: 1007 },
    ],
  },
  {
    id: "6.4.2",
    title: "fails fast when the invalid sequence starts at the end of a fragment",
    steps: [
      concat(
        text(hex("ce ba e1 bd b9 cf 83 ce bc ce b5 f4"), false),
        frame(OP_CONTINUATION, hex("90"), false),
      ),
      { close: 1007 },
    ],
  },
  {
    id: "6.4.3",
    title: "an invalid frame written in chops: 1007 once the frame is in",
    steps: [chops(text(concat(KOSME, hex("f4 90 80 80"), new TextEncoder().encode("edited"))), 4), {
      close: 1007,
    }],
  },
];

// Markus Kuhn's UTF-8 decoder capability test, as Autobahn's case6_x_x.py selects it.
const valid = [
  "68 65 6c 6c 6f 24 77 6f 72 6c 64",
  "68 65 6c 6c 6f c2 a2 77 6f 72 6c 64",
  "68 65 6c 6c 6f e2 82 ac 77 6f 72 6c 64",
  "68 65 6c 6c 6f f0 a4 ad a2 77 6f 72 6c 64",
  "00",
  "c2 80",
  "e0 a0 80",
  "f0 90 80 80",
  "7f",
  "df bf",
  "ef bf bf",
  "f4 8f bf bf",
  "ed 9f bf",
  "ee 80 80",
  "ef bf bd",
  "ef bf be",
  "f0 8f bf be".replace("f0 8f", "f1 8f"), // a non-character, valid UTF-8
  "ef bf b9",
];
const invalid = [
  "f8 88 80 80 80",
  "fc 84 80 80 80 80",
  "f7 bf bf bf",
  "fb bf bf bf bf",
  "fd bf bf bf bf bf",
  "f4 90 80 80",
  "80",
  "bf",
  "80 bf 80 bf",
  "c0 20 c1 20 c2 20",
  "e0 20 e1 20",
  "f0 20 f1 20",
  "c0",
  "e0 80",
  "f0 80 80",
  "df",
  "ef bf",
  "f7 bf bf",
  "fe",
  "ff",
  "fe fe ff ff",
  "c0 af",
  "e0 80 af",
  "f0 80 80 af",
  "c1 bf",
  "e0 9f bf",
  "f0 8f bf bf",
  "c0 80",
  "e0 80 80",
  "ed a0 80",
  "ed ad bf",
  "ed bf bf",
  "ed a0 80 ed b0 80",
  "ed af bf ed bf bf",
];
const vectors: Case[] = [
  ...valid.map((v, i): Case => ({
    id: `6.x valid ${i + 1}`,
    title: `[${v}] is echoed`,
    steps: [text(hex(v)), { text: decode(hex(v)) }, ...BYE],
  })),
  ...invalid.map((v, i): Case => ({
    id: `6.x invalid ${i + 1}`,
    title: `[${v}] closes with 1007`,
    steps: [text(hex(v)), { close: 1007 }],
  })),
];

const closeFrame = (payload: Uint8Array) => ({ clientClose: frame(OP_CLOSE, payload) });
const withCode = (code: number, reason = "") =>
  concat(new Uint8Array([code >> 8, code & 0xff]), new TextEncoder().encode(reason));

const closing: Case[] = [
  {
    id: "7.1.1",
    title: "a message, then a close: echo, then the close answered",
    steps: [text("Hello World!"), { text: "Hello World!" }, ...BYE],
  },
  {
    id: "7.1.2",
    title: "two closes: the first is answered, the second ignored",
    steps: [clientClose(1000), frame(OP_CLOSE, withCode(1000)), { close: 1000 }],
  },
  {
    id: "7.1.3",
    title: "a ping after the close is not answered",
    steps: [clientClose(1000), frame(OP_PING, "Hello World!"), { close: 1000 }],
  },
  {
    id: "7.1.4",
    title: "a message after the close is not echoed",
    steps: [clientClose(1000), text("Hello World!"), { close: 1000 }],
  },
  {
    id: "7.1.5",
    title: "a fragment, a close, the rest: only the close is answered",
    steps: [text("fragment1", false), clientClose(1000), frame(OP_CONTINUATION, "fragment2"), {
      close: 1000,
    }],
  },
  {
    id: "7.1.6",
    title: "a large message, a close, a ping: echo, close, nothing more",
    steps: [
      concat(frame(OP_BINARY, new Uint8Array(256 * 1024).fill(0x2a))),
      clientClose(1000),
      frame(OP_PING, "ping"),
      { binary: new Uint8Array(256 * 1024).fill(0x2a) },
      { close: 1000 },
    ],
  },
  {
    id: "7.3.1",
    title: "an empty close is answered with an empty close",
    steps: [closeFrame(new Uint8Array(0)), { close: 1005 }],
  },
  {
    id: "7.3.2",
    title: "a close with a one-byte payload closes with 1002",
    steps: [frame(OP_CLOSE, new Uint8Array([0x03])), { close: 1002 }],
  },
  {
    id: "7.3.3",
    title: "a close with 1000 is echoed",
    steps: [clientClose(1000), { close: 1000 }],
  },
  {
    id: "7.3.4",
    title: "a close with 1000 and a reason is echoed",
    steps: [clientClose(1000, "Hello World!"), { close: 1000 }],
  },
  {
    id: "7.3.5",
    title: "a close with a 123-byte reason is echoed",
    steps: [clientClose(1000, "*".repeat(123)), { close: 1000 }],
  },
  {
    id: "7.3.6",
    title: "a close with a 126-byte payload closes with 1002",
    steps: [frame(OP_CLOSE, withCode(1000, "*".repeat(124))), { close: 1002 }],
  },
  {
    id: "7.5.1",
    title: "a close whose reason is not UTF-8 closes with 1007",
    steps: [frame(OP_CLOSE, concat(withCode(1000), KOSME_EDITED)), { close: 1007 }],
  },
  ...[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].map(
    (code, i): Case => ({
      id: `7.7.${i + 1}`,
      title: `close code ${code} is valid and echoed`,
      steps: [clientClose(code), { close: code }],
    }),
  ),
  ...[0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].map((code, i): Case => ({
    id: `7.9.${i + 1}`,
    title: `close code ${code} is invalid: 1002`,
    steps: [frame(OP_CLOSE, withCode(code)), { close: 1002 }],
  })),
  {
    id: "7.13.1",
    title: "close code 5000 (undefined by the spec) closes with 1002",
    steps: [frame(OP_CLOSE, withCode(5000)), { close: 1002 }],
  },
  {
    id: "7.13.2",
    title: "close code 65535 (undefined by the spec) closes with 1002",
    steps: [frame(OP_CLOSE, withCode(65535)), { close: 1002 }],
  },
];

registerCases(basics);
registerCases(vectors);
registerCases(closing);
