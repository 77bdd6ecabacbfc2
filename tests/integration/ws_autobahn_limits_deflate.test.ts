/**
 * Autobahn cases 9 (limits and performance, sizes scaled down: up to 4 MiB where Autobahn goes to
 * 16 MiB), 10 (auto-fragmentation) and 12/13 (permessage-deflate with each offer and server
 * answer Autobahn tries), plus the message-size limit (1009) with and without compression.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { MessageDeflater, MessageInflater } from "../../src/ws/deflate.ts";
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_TEXT } from "../../src/ws/frame.ts";
import { upgradeWebSocket } from "../../src/ws/upgrade_websocket.ts";
import {
  type Case,
  chops,
  clientClose,
  concat,
  fragments,
  frame,
  registerCases,
  text,
} from "../ws_autobahn.ts";
import { closeOf, RawClient, startEchoServer } from "../ws_helpers.ts";

const BYE = [clientClose(1000), { close: 1000 }];
const KiB = 1024;
const MiB = 1024 * KiB;
const star = (n: number) => "*".repeat(n);
const fill = (n: number) => new Uint8Array(n).fill(0xfe);

const big = [64 * KiB, 256 * KiB, MiB, 4 * MiB];
const fragmentSizes = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB];
const chopSizes = [64, 128, 256, 512, 1024, 2048];
const roundTrips = [0, 16, 64, 256, 1024, 4096];
const utf8 = (s: string) => new TextEncoder().encode(s);

const limits: Case[] = [
  ...big.map((n, i): Case => ({
    id: `9.1.${i + 1}`,
    title: `text message of ${n} bytes is echoed`,
    steps: [text(star(n)), { text: star(n) }, ...BYE],
  })),
  ...big.map((n, i): Case => ({
    id: `9.2.${i + 1}`,
    title: `binary message of ${n} bytes is echoed`,
    steps: [frame(OP_BINARY, fill(n)), { binary: fill(n) }, ...BYE],
  })),
  ...fragmentSizes.map((size, i): Case => ({
    id: `9.3.${i + 1}`,
    title: `1 MiB text in fragments of ${size} bytes is echoed whole`,
    steps: [fragments(OP_TEXT, utf8(star(MiB)), size), { text: star(MiB) }, ...BYE],
  })),
  ...fragmentSizes.map((size, i): Case => ({
    id: `9.4.${i + 1}`,
    title: `1 MiB binary in fragments of ${size} bytes is echoed whole`,
    steps: [fragments(OP_BINARY, fill(MiB), size), { binary: fill(MiB) }, ...BYE],
  })),
  ...chopSizes.map((size, i): Case => ({
    id: `9.5.${i + 1}`,
    title: `1 MiB text written in chops of ${size} bytes is echoed`,
    steps: [chops(text(star(MiB)), size), { text: star(MiB) }, ...BYE],
  })),
  ...chopSizes.map((size, i): Case => ({
    id: `9.6.${i + 1}`,
    title: `1 MiB binary written in chops of ${size} bytes is echoed`,
    steps: [chops(frame(OP_BINARY, fill(MiB)), size), { binary: fill(MiB) }, ...BYE],
  })),
  ...roundTrips.map((size, i): Case => ({
    id: `9.7.${i + 1}`,
    title: `200 text messages of ${size} bytes, each sent once the last came back`,
    steps: [
      ...Array.from({ length: 200 }, () => [text(star(size)), { text: star(size) }]).flat(),
      ...BYE,
    ],
  })),
  ...roundTrips.map((size, i): Case => ({
    id: `9.8.${i + 1}`,
    title: `200 binary messages of ${size} bytes, each sent once the last came back`,
    steps: [
      ...Array.from({ length: 200 }, () => [frame(OP_BINARY, fill(size)), { binary: fill(size) }])
        .flat(),
      ...BYE,
    ],
  })),
  {
    id: "10.1.1",
    title: "64 KiB text in fragments of 1300 bytes is echoed whole",
    steps: [fragments(OP_TEXT, utf8(star(64 * KiB)), 1300), { text: star(64 * KiB) }, ...BYE],
  },
  {
    id: "limit 1",
    title: "a frame over maxMessageBytes closes with 1009 from its header alone",
    options: { maxMessageBytes: 64 * KiB },
    steps: [frame(OP_BINARY, fill(64 * KiB + 1)).subarray(0, 14), { close: 1009 }],
  },
  {
    id: "limit 2",
    title: "fragments that add up to more than maxMessageBytes close with 1009",
    options: { maxMessageBytes: 64 * KiB },
    steps: [
      concat(frame(OP_TEXT, star(40 * KiB), false), frame(OP_CONTINUATION, star(30 * KiB))),
      { close: 1009 },
    ],
  },
  {
    id: "limit 3",
    title: "a message of exactly maxMessageBytes is echoed",
    options: { maxMessageBytes: 64 * KiB },
    steps: [frame(OP_BINARY, fill(64 * KiB)), { binary: fill(64 * KiB) }, ...BYE],
  },
];
registerCases(limits);

/** Deterministic text that compresses like JSON does: repeated keys, varying values. */
function jsonData(length: number): Uint8Array {
  let seed = 7;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const part = `{"id":${seed % 100000},"name":"user${seed % 977}","active":${seed % 2 === 0}},`;
    parts.push(part);
    size += part.length;
  }
  return utf8(parts.join("").slice(0, length));
}

/** Deterministic bytes that barely compress. */
function noiseData(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let seed = 11;
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = seed >> 16;
  }
  return out;
}

interface DeflateCase {
  id: string;
  offer: string;
  answer: string;
  /** The client resets its compressor after each message (it offered client_no_context_takeover). */
  clientNoContextTakeover: boolean;
}

const offers: DeflateCase[] = [
  {
    id: "13.1",
    offer: "permessage-deflate",
    answer: "permessage-deflate",
    clientNoContextTakeover: false,
  },
  {
    id: "13.2",
    offer: "permessage-deflate; server_no_context_takeover",
    answer: "permessage-deflate; server_no_context_takeover",
    clientNoContextTakeover: false,
  },
  {
    id: "13.3",
    offer: "permessage-deflate; client_no_context_takeover; server_max_window_bits=9",
    answer: "permessage-deflate; server_max_window_bits=9",
    clientNoContextTakeover: true,
  },
  {
    id: "13.4",
    offer: "permessage-deflate; server_max_window_bits=15; client_max_window_bits",
    answer: "permessage-deflate; server_max_window_bits=15",
    clientNoContextTakeover: false,
  },
  {
    id: "13.5",
    offer: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
    answer: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
    clientNoContextTakeover: true,
  },
  {
    id: "13.7",
    offer:
      "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover",
    answer: "permessage-deflate; server_no_context_takeover",
    clientNoContextTakeover: false,
  },
];
const messageSizes: [number, number][] = [
  [16, 0],
  [64, 0],
  [256, 0],
  [1024, 0],
  [4096, 0],
  [8192, 256],
  [65536, 0],
  [65536, 4096],
  [131072, 32768],
];
const THRESHOLD = 1024;

async function echoCompressed(c: DeflateCase, size: number, fragment: number, binary: boolean) {
  await using server = startEchoServer((request) => upgradeWebSocket(request));
  const client = await RawClient.connect(server.port, `Sec-WebSocket-Extensions: ${c.offer}\r\n`);
  const deflater = new MessageDeflater({
    serverNoContextTakeover: c.clientNoContextTakeover,
    serverMaxWindowBits: 15,
  });
  const inflater = new MessageInflater();
  try {
    assert.match(client.head, new RegExp(`sec-websocket-extensions: ${c.answer}\r\n`, "i"));
    const data = binary ? noiseData(size * 6) : jsonData(size * 6);
    for (let i = 0; i < 6; i++) {
      const message = data.subarray(i * size, (i + 1) * size);
      const compressed = await deflater.compress(message);
      const pieces = fragment === 0 ? [compressed] : chops(compressed, fragment);
      await client.send(
        concat(...pieces.map((p, n) =>
          client.frame(
            n === 0 ? (binary ? OP_BINARY : OP_TEXT) : OP_CONTINUATION,
            p,
            n === pieces.length - 1,
            n === 0,
          )
        )),
      );
      const echo = await client.readFrame();
      assert.ok(echo !== null && echo.fin);
      assert.equal(echo.opcode, binary ? OP_BINARY : OP_TEXT);
      assert.equal(
        echo.rsv1,
        size >= THRESHOLD,
        "compressed exactly when at the threshold or over",
      );
      const payload = echo.rsv1
        ? await inflater.inflate(echo.payload, true, 1 << 30)
        : echo.payload;
      assert.ok(payload.length === message.length && payload.every((b, k) => b === message[k]));
    }
    await client.send(client.frame(OP_CLOSE, new Uint8Array([0x03, 0xe8])));
    const close = await client.readFrame();
    assert.equal(close && closeOf(close).code, 1000);
    assert.equal(await client.readFrame(), null);
  } finally {
    deflater.close();
    inflater.close();
    client.close();
  }
}

for (const c of offers) {
  for (const [size, fragment] of messageSizes) {
    for (const binary of [false, true]) {
      const what = binary ? "noise" : "JSON";
      Deno.test(
        `Autobahn ${c.id}: ${what} messages of ${size} bytes${
          fragment ? ` in ${fragment}-byte fragments` : ""
        } echo compressed under "${c.offer}"`,
        () => echoCompressed(c, size, fragment, binary),
      );
    }
  }
}

async function closeCodeFor(send: (client: RawClient) => Promise<void>, maxMessageBytes = MiB) {
  await using server = startEchoServer((request) => upgradeWebSocket(request, { maxMessageBytes }));
  const client = await RawClient.connect(
    server.port,
    "Sec-WebSocket-Extensions: permessage-deflate\r\n",
  );
  try {
    await send(client);
    const close = await client.readFrame();
    assert.ok(close !== null && close.opcode === OP_CLOSE);
    await client.send(client.frame(OP_CLOSE, close.payload.subarray(0, 2)));
    assert.equal(await client.readFrame(), null);
    return closeOf(close).code;
  } finally {
    client.close();
  }
}

Deno.test("a compressed message that inflates past maxMessageBytes closes with 1009", async () => {
  const bomb = zlib.deflateRawSync(new Uint8Array(64 * MiB), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const code = await closeCodeFor((c) =>
    c.send(c.frame(OP_BINARY, bomb.subarray(0, bomb.length - 4), true, true))
  );
  assert.equal(code, 1009);
});

Deno.test("a compressed message that is not deflate data closes with 1007", async () => {
  const code = await closeCodeFor((c) =>
    c.send(c.frame(OP_TEXT, new Uint8Array([0xff, 0xff, 0xff]), true, true))
  );
  assert.equal(code, 1007);
});

Deno.test("RSV1 on a continuation frame closes with 1002 even with permessage-deflate", async () => {
  const code = await closeCodeFor((c) =>
    c.send(concat(c.frame(OP_TEXT, "a", false, true), c.frame(OP_CONTINUATION, "b", true, true)))
  );
  assert.equal(code, 1002);
});

Deno.test("compressed text that inflates to invalid UTF-8 closes with 1007", async () => {
  const bad = zlib.deflateRawSync(new Uint8Array([0xce, 0xba, 0xed, 0xa0, 0x80]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const code = await closeCodeFor((c) =>
    c.send(c.frame(OP_TEXT, bad.subarray(0, bad.length - 4), true, true))
  );
  assert.equal(code, 1007);
});
