/**
 * Autobahn cases 1–5 over a socket: framing, pings and pongs, reserved bits, opcodes and
 * fragmentation. Failures close with 1002 (Autobahn accepts that or a dropped connection; this
 * server always sends the close frame).
 */
import {
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from "../../src/ws/frame.ts";
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
const PROTOCOL_ERROR = { close: 1002 };

const sizes = [0, 125, 126, 127, 128, 65535, 65536];
const framing: Case[] = [
  ...sizes.map((n, i): Case => ({
    id: `1.1.${i + 1}`,
    title: `text message of ${n} bytes is echoed`,
    steps: [text("*".repeat(n)), { text: "*".repeat(n) }, ...BYE],
  })),
  {
    id: "1.1.8",
    title: "text message of 65536 bytes written in chops of 997 is echoed",
    steps: [chops(text("*".repeat(65536)), 997), { text: "*".repeat(65536) }, ...BYE],
  },
  ...sizes.map((n, i): Case => ({
    id: `1.2.${i + 1}`,
    title: `binary message of ${n} bytes is echoed`,
    steps: [
      frame(OP_BINARY, new Uint8Array(n).fill(0xfe)),
      { binary: new Uint8Array(n).fill(0xfe) },
      ...BYE,
    ],
  })),
  {
    id: "1.2.8",
    title: "binary message of 65536 bytes written in chops of 997 is echoed",
    steps: [
      chops(frame(OP_BINARY, new Uint8Array(65536).fill(0xfe)), 997),
      { binary: new Uint8Array(65536).fill(0xfe) },
      ...BYE,
    ],
  },
];

const ping125 = new Uint8Array(125).fill(0xfe);
const pings: Case[] = [
  {
    id: "2.1",
    title: "empty ping gets an empty pong",
    steps: [frame(OP_PING), { pong: "" }, ...BYE],
  },
  {
    id: "2.2",
    title: "ping with a text payload gets a pong with the same payload",
    steps: [frame(OP_PING, "Hello, world!"), { pong: "Hello, world!" }, ...BYE],
  },
  {
    id: "2.3",
    title: "ping with a binary payload gets a pong with the same payload",
    steps: [
      frame(OP_PING, new Uint8Array([0, 255, 254, 253, 252, 251, 0, 255])),
      { pong: new Uint8Array([0, 255, 254, 253, 252, 251, 0, 255]) },
      ...BYE,
    ],
  },
  {
    id: "2.4",
    title: "ping with a 125-byte payload gets its pong",
    steps: [frame(OP_PING, ping125), { pong: ping125 }, ...BYE],
  },
  {
    id: "2.5",
    title: "ping with a 126-byte payload is a protocol error",
    steps: [frame(OP_PING, new Uint8Array(126)), PROTOCOL_ERROR],
  },
  {
    id: "2.6",
    title: "ping with a 125-byte payload written byte by byte gets its pong",
    steps: [chops(frame(OP_PING, ping125), 1), { pong: ping125 }, ...BYE],
  },
  { id: "2.7", title: "an unsolicited empty pong is ignored", steps: [frame(OP_PONG), ...BYE] },
  {
    id: "2.8",
    title: "an unsolicited pong with a payload is ignored",
    steps: [frame(OP_PONG, "unsolicited pong payload"), ...BYE],
  },
  {
    id: "2.9",
    title: "an unsolicited pong, then a ping: only the ping is answered",
    steps: [
      frame(OP_PONG, "unsolicited pong payload"),
      frame(OP_PING, "ping payload"),
      { pong: "ping payload" },
      ...BYE,
    ],
  },
  {
    id: "2.10",
    title: "ten pings get ten pongs in order",
    steps: [
      concat(...Array.from({ length: 10 }, (_, i) => frame(OP_PING, `payload-${i}`))),
      ...Array.from({ length: 10 }, (_, i) => ({ pong: `payload-${i}` })),
      ...BYE,
    ],
  },
  {
    id: "2.11",
    title: "ten pings written in chops of 1 byte get ten pongs in order",
    steps: [
      chops(concat(...Array.from({ length: 10 }, (_, i) => frame(OP_PING, `payload-${i}`))), 1),
      ...Array.from({ length: 10 }, (_, i) => ({ pong: `payload-${i}` })),
      ...BYE,
    ],
  },
];

const reserved: Case[] = [
  {
    id: "3.1",
    title: "text with RSV1 (no extension) is a protocol error",
    steps: [frame(OP_TEXT, "Hello, world!", true, 4), PROTOCOL_ERROR],
  },
  {
    id: "3.2",
    title: "text, then text with RSV2, then ping: echo, then a protocol error",
    steps: [
      text("Hello, world!"),
      { text: "Hello, world!" },
      frame(OP_TEXT, "Hello, world!", true, 2),
      frame(OP_PING),
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "3.3",
    title: "text, text with RSV3 and ping in one write: echo, then a protocol error",
    steps: [
      concat(text("Hello, world!"), frame(OP_TEXT, "Hello, world!", true, 1), frame(OP_PING)),
      { text: "Hello, world!" },
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "3.4",
    title: "the same as 3.3 written byte by byte",
    steps: [
      chops(concat(text("Hello, world!"), frame(OP_TEXT, "Hello", true, 6), frame(OP_PING)), 1),
      { text: "Hello, world!" },
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "3.5",
    title: "binary with RSV1 and RSV3 is a protocol error",
    steps: [frame(OP_BINARY, new Uint8Array([0, 255]), true, 5), PROTOCOL_ERROR],
  },
  {
    id: "3.6",
    title: "ping with RSV1 and RSV2 is a protocol error",
    steps: [frame(OP_PING, "Hello, world!", true, 6), PROTOCOL_ERROR],
  },
  {
    id: "3.7",
    title: "close with all reserved bits is a protocol error",
    steps: [frame(OP_CLOSE, new Uint8Array([3, 232]), true, 7), PROTOCOL_ERROR],
  },
];

function opcodeCases(group: string, opcodes: number[]): Case[] {
  const [a, b, c, d, e] = opcodes;
  const bad = (op: number, payload = "") => frame(op, payload);
  return [
    { id: `${group}.1`, title: `reserved opcode ${a}`, steps: [bad(a), PROTOCOL_ERROR] },
    {
      id: `${group}.2`,
      title: `reserved opcode ${b} with a payload`,
      steps: [bad(b, "reserved opcode payload"), PROTOCOL_ERROR],
    },
    {
      id: `${group}.3`,
      title: `text, reserved opcode ${c}, ping: echo, then a protocol error`,
      steps: [concat(text("Hello"), bad(c), frame(OP_PING)), { text: "Hello" }, PROTOCOL_ERROR],
    },
    {
      id: `${group}.4`,
      title: `text, reserved opcode ${d} with a payload, ping: echo, then a protocol error`,
      steps: [
        concat(text("Hello"), bad(d, "payload"), frame(OP_PING)),
        { text: "Hello" },
        PROTOCOL_ERROR,
      ],
    },
    {
      id: `${group}.5`,
      title: `the same with opcode ${e}, written byte by byte`,
      steps: [
        chops(concat(text("Hello"), bad(e, "payload"), frame(OP_PING)), 1),
        { text: "Hello" },
        PROTOCOL_ERROR,
      ],
    },
  ];
}

const fragmentsOf = (a: string, b: string) =>
  concat(frame(OP_TEXT, a, false), frame(OP_CONTINUATION, b, true));
const withPing = concat(
  frame(OP_TEXT, "fragment1", false),
  frame(OP_PING, "ping payload"),
  frame(OP_CONTINUATION, "fragment2"),
);
const continuation = (fin: boolean) =>
  concat(
    frame(OP_CONTINUATION, "fragment1", fin),
    text("fragment2", false),
    frame(OP_CONTINUATION, "fragment3"),
  );
const fragmentation: Case[] = [
  {
    id: "5.1",
    title: "a ping in two fragments is a protocol error",
    steps: [
      concat(frame(OP_PING, "fragment1", false), frame(OP_CONTINUATION, "fragment2")),
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "5.2",
    title: "a pong in two fragments is a protocol error",
    steps: [
      concat(frame(OP_PONG, "fragment1", false), frame(OP_CONTINUATION, "fragment2")),
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "5.3",
    title: "text in two fragments is echoed whole",
    steps: [fragmentsOf("fragment1", "fragment2"), { text: "fragment1fragment2" }, ...BYE],
  },
  {
    id: "5.4",
    title: "text in two fragments, each its own write",
    steps: [text("fragment1", false), frame(OP_CONTINUATION, "fragment2"), {
      text: "fragment1fragment2",
    }, ...BYE],
  },
  {
    id: "5.5",
    title: "text in two fragments written byte by byte",
    steps: [
      chops(fragmentsOf("fragment1", "fragment2"), 1),
      { text: "fragment1fragment2" },
      ...BYE,
    ],
  },
  {
    id: "5.6",
    title: "a ping between two fragments is answered first",
    steps: [withPing, { pong: "ping payload" }, { text: "fragment1fragment2" }, ...BYE],
  },
  {
    id: "5.7",
    title: "a ping between two fragments, each frame its own write",
    steps: [
      chops(withPing, 1000),
      { pong: "ping payload" },
      { text: "fragment1fragment2" },
      ...BYE,
    ],
  },
  {
    id: "5.8",
    title: "a ping between two fragments, written byte by byte",
    steps: [chops(withPing, 1), { pong: "ping payload" }, { text: "fragment1fragment2" }, ...BYE],
  },
  ...[["5.9", "5.10", "5.11", true], ["5.12", "5.13", "5.14", false]].flatMap(
    ([one, each, bytes, fin]) => [
      {
        id: one as string,
        title: `a continuation (FIN ${fin}) with nothing to continue, then text`,
        steps: [continuation(fin as boolean), PROTOCOL_ERROR],
      },
      {
        id: each as string,
        title: `the same, frame by frame`,
        steps: [frame(OP_CONTINUATION, "fragment1", fin as boolean), PROTOCOL_ERROR],
      },
      {
        id: bytes as string,
        title: `the same, byte by byte`,
        steps: [chops(continuation(fin as boolean), 1), PROTOCOL_ERROR],
      },
    ],
  ),
  {
    id: "5.15",
    title: "text in two fragments, a continuation with nothing to continue: echo, then an error",
    steps: [
      concat(
        fragmentsOf("fragment1", "fragment2"),
        frame(OP_CONTINUATION, "fragment3", false),
        text("fragment4"),
      ),
      { text: "fragment1fragment2" },
      PROTOCOL_ERROR,
    ],
  },
  {
    id: "5.16",
    title: "a continuation with nothing to continue, then fragmented text, twice",
    steps: [concat(continuation(false), continuation(false)), PROTOCOL_ERROR],
  },
  {
    id: "5.17",
    title: "the same with FIN set on the lone continuation",
    steps: [concat(continuation(true), continuation(true)), PROTOCOL_ERROR],
  },
  {
    id: "5.18",
    title: "two fragments that both say text is a protocol error",
    steps: [concat(text("fragment1", false), text("fragment2")), PROTOCOL_ERROR],
  },
  {
    id: "5.19",
    title: "text in five fragments with pings after the first and the fourth",
    steps: [
      concat(text("fragment1", false), frame(OP_CONTINUATION, "fragment2", false)),
      frame(OP_PING, "pongme 1!"),
      { pong: "pongme 1!" },
      concat(
        frame(OP_CONTINUATION, "fragment3", false),
        frame(OP_CONTINUATION, "fragment4", false),
      ),
      frame(OP_PING, "pongme 2!"),
      { pong: "pongme 2!" },
      frame(OP_CONTINUATION, "fragment5"),
      { text: "fragment1fragment2fragment3fragment4fragment5" },
      ...BYE,
    ],
  },
  {
    id: "5.20",
    title: "the same as 5.19, every frame written byte by byte",
    steps: [
      chops(concat(text("fragment1", false), frame(OP_CONTINUATION, "fragment2", false)), 1),
      chops(frame(OP_PING, "pongme 1!"), 1),
      { pong: "pongme 1!" },
      chops(
        concat(
          frame(OP_CONTINUATION, "fragment3", false),
          frame(OP_CONTINUATION, "fragment4", false),
        ),
        1,
      ),
      chops(frame(OP_PING, "pongme 2!"), 1),
      { pong: "pongme 2!" },
      chops(frame(OP_CONTINUATION, "fragment5"), 1),
      { text: "fragment1fragment2fragment3fragment4fragment5" },
      ...BYE,
    ],
  },
];

registerCases(framing);
registerCases(pings);
registerCases(reserved);
registerCases(opcodeCases("4.1", [3, 4, 5, 6, 7]));
registerCases(opcodeCases("4.2", [11, 12, 13, 14, 15]));
registerCases(fragmentation);
