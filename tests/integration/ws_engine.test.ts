/**
 * WebSockets through the real engine (`serve()` from mod.ts): Deno's `WebSocket` and the `ws`
 * package over TCP, TLS (`wss:`) and Unix sockets; Autobahn cases replayed with a raw client;
 * shutdown's 1001; the idle timeout and the close timeout ending the TCP connection; and the
 * requests the engine refuses to switch (HTTP/1.0).
 */
import assert from "node:assert/strict";
import NodeWebSocket from "ws";
import { OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT } from "../../src/ws/frame.ts";
import { parseResponses, readToEnd, run } from "../helpers.ts";
import { makeCertificate } from "../tls_helpers.ts";
import { needs } from "../tools.ts";
import { type Case, chops, clientClose, concat, frame, runCase, text } from "../ws_autobahn.ts";
import { closeOf, RawClient, SAMPLE_KEY, startEngineEchoServer } from "../ws_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const withOpenssl = needs("openssl");

type Node = InstanceType<typeof NodeWebSocket>;

function opened(ws: WebSocket | Node): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", (e: unknown) => reject(e), { once: true });
  });
}

function nextData(ws: Node): Promise<{ data: string; binary: boolean }> {
  return new Promise((resolve) => {
    ws.once("message", (data: Uint8Array, binary: boolean) => {
      resolve({ data: binary ? Buffer.from(data).toString("hex") : decoder.decode(data), binary });
    });
  });
}

/** Echoes a text and a binary message with the `ws` client, then closes with `code`. */
async function nodeRoundTrip(ws: Node, code: number): Promise<void> {
  await opened(ws);
  let echo = nextData(ws);
  ws.send("x".repeat(5000));
  assert.deepEqual(await echo, { data: "x".repeat(5000), binary: false });
  echo = nextData(ws);
  ws.send(new Uint8Array([0, 1, 254, 255]));
  assert.deepEqual(await echo, { data: "0001feff", binary: true });
  const closed = new Promise<number>((resolve) => ws.once("close", (c: number) => resolve(c)));
  ws.close(code);
  assert.equal(await closed, code);
}

Deno.test("engine, TCP: Deno's WebSocket gets its text and binary messages echoed and closes cleanly", async () => {
  await using s = startEngineEchoServer();
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/echo`);
  ws.binaryType = "arraybuffer";
  await opened(ws);
  const messages: unknown[] = [];
  const three = new Promise<void>((resolve) => {
    ws.onmessage = (e) => messages.push(e.data) === 3 && resolve();
  });
  ws.send("hello");
  ws.send(new Uint8Array([1, 2, 3]));
  ws.send("é".repeat(100_000));
  await three;
  assert.equal(messages[0], "hello");
  assert.deepEqual(new Uint8Array(messages[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
  assert.equal(messages[2], "é".repeat(100_000));
  assert.equal(s.server.stats().connections, 1);
  const serverClosed = new Promise<CloseEvent>((r) => s.sockets[0].onclose = r);
  const clientClosed = new Promise<CloseEvent>((r) => ws.onclose = r);
  ws.close(4001, "bye");
  const [c, sc] = await Promise.all([clientClosed, serverClosed]);
  assert.deepEqual([c.code, c.wasClean], [4001, true]);
  assert.deepEqual([sc.code, sc.reason, sc.wasClean], [4001, "bye", true]);
});

for (const perMessageDeflate of [true, false]) {
  Deno.test(`engine, TCP: the ws package ${perMessageDeflate ? "with" : "without"} permessage-deflate echoes and closes`, async () => {
    await using s = startEngineEchoServer();
    const ws = new NodeWebSocket(`ws://127.0.0.1:${s.port}/`, { perMessageDeflate });
    await nodeRoundTrip(ws, 1000);
    assert.equal(ws.extensions, perMessageDeflate ? "permessage-deflate" : "");
  });
}

Deno.test("engine, Unix socket: the ws package connects with ws+unix: and echoes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-ws-" });
  const path = `${dir}/ws.sock`;
  try {
    await using _server = startEngineEchoServer(undefined, {
      path,
      hostname: undefined,
      port: undefined,
    });
    const ws = new NodeWebSocket(`ws+unix:${path}:/chat`, { perMessageDeflate: true });
    await nodeRoundTrip(ws, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

withOpenssl.test("engine, TLS: the ws package (with the CA) and Deno's WebSocket (--cert) echo over wss:", async () => {
  const { dir, ca, cert, key } = await makeCertificate();
  try {
    await using s = startEngineEchoServer(undefined, { cert, key });
    const ws = new NodeWebSocket(`wss://localhost:${s.port}/`, { ca, perMessageDeflate: true });
    await nodeRoundTrip(ws, 1000);
    // Deno's WebSocket trusts the CA only through --cert, hence a child process.
    const script = `const ws = new WebSocket("wss://localhost:${s.port}/deno");
      ws.onopen = () => ws.send("over tls");
      ws.onmessage = (e) => { console.log(e.data); ws.close(1000); };
      ws.onclose = (e) => console.log("closed", e.code, e.wasClean);`;
    const out = await run(Deno.execPath(), ["eval", "--cert", `${dir}/ca.pem`, script]);
    assert.equal(out.stdout, "over tls\nclosed 1000 true\n", out.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const BYE = [clientClose(1000), { close: 1000 }];
const fromEngine = (options: Parameters<typeof startEngineEchoServer>[0]) =>
  startEngineEchoServer(options);
const cases: Case[] = [
  {
    id: "1.1.8",
    title: "text message of 65536 bytes in chops of 997",
    steps: [chops(text("*".repeat(65536)), 997), { text: "*".repeat(65536) }, ...BYE],
  },
  {
    id: "1.2.6",
    title: "binary message of 65535 bytes",
    steps: [frame(OP_BINARY, new Uint8Array(65535).fill(0xfe)), {
      binary: new Uint8Array(65535).fill(0xfe),
    }, ...BYE],
  },
  {
    id: "2.3",
    title: "a ping with binary payload is answered with the same pong",
    steps: [frame(OP_PING, new Uint8Array([0, 0xff, 0xfe, 0xfd])), {
      pong: new Uint8Array([0, 0xff, 0xfe, 0xfd]),
    }, ...BYE],
  },
  {
    id: "3.2",
    title: "RSV2 set on a text frame after a good one closes with 1002",
    steps: [text("Hello, world!"), frame(OP_TEXT, "Hello, world!", true, 2), {
      text: "Hello, world!",
    }, { close: 1002 }],
  },
  {
    id: "4.1.1",
    title: "reserved non-control opcode 3 closes with 1002",
    steps: [frame(3), { close: 1002 }],
  },
  {
    id: "5.6",
    title: "a ping between two text fragments is answered before the message",
    steps: [
      concat(text("fragment1", false), frame(OP_PING, "ping"), frame(0, "fragment2")),
      { pong: "ping" },
      { text: "fragment1fragment2" },
      ...BYE,
    ],
  },
  {
    id: "6.3.1",
    title: "invalid UTF-8 closes with 1007",
    steps: [text(new Uint8Array([0xce, 0xba, 0xed, 0xa0, 0x80])), { close: 1007 }],
  },
  {
    id: "7.3.3",
    title: "a close with a code and no reason is answered with that code",
    steps: [clientClose(1000), { close: 1000 }],
  },
  {
    id: "7.9.1",
    title: "close code 0 closes with 1002",
    steps: [{ clientClose: frame(OP_CLOSE, new Uint8Array([0, 0])) }, { close: 1002 }],
  },
  {
    id: "9.1.1 (uncompressed)",
    title: "a 64 KiB text message is echoed",
    steps: [text("a".repeat(65536)), { text: "a".repeat(65536) }, ...BYE],
  },
];
for (const c of cases) {
  Deno.test(`engine, Autobahn ${c.id}: ${c.title}`, () => runCase(c, fromEngine));
}

Deno.test("engine: shutdown closes an open WebSocket with 1001 well within the grace period", async () => {
  const s = startEngineEchoServer(undefined, { limits: { shutdownGracePeriod: 5000 } });
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`);
  await opened(ws);
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  const started = performance.now();
  await s.server.shutdown();
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean], [1001, true]);
  assert.ok(performance.now() - started < 2500, "closed by the handshake, not the grace period");
  assert.equal(s.server.stats().connections, 0);
});

Deno.test("engine: a peer that stops answering is pinged, closed with 1001, then disconnected", async () => {
  await using s = startEngineEchoServer({ idleTimeout: 0.2, closeTimeout: 0.2 });
  const client = await RawClient.connect(s.port);
  try {
    assert.match(client.head, /^HTTP\/1\.1 101 /);
    const ping = await client.readFrame();
    assert.equal(ping?.opcode, OP_PING);
    const close = await client.readFrame();
    assert.equal(close?.opcode, OP_CLOSE);
    assert.equal(closeOf(close!).code, 1001);
    // No answer to the close either: the close timeout ends the TCP connection.
    assert.equal(await client.readFrame(), null);
  } finally {
    client.close();
  }
});

Deno.test("engine: the server's close with a peer that never answers ends with the TCP connection", async () => {
  await using s = startEngineEchoServer({ closeTimeout: 0.2 });
  const client = await RawClient.connect(s.port);
  try {
    s.sockets[0].close(4000, "done");
    const close = await client.readFrame();
    assert.deepEqual(closeOf(close!), { code: 4000, reason: "done" });
    assert.equal(await client.readFrame(), null);
  } finally {
    client.close();
  }
});

Deno.test("engine: a WebSocket handshake over HTTP/1.0 is answered 400, without switching", async () => {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await using s = startEngineEchoServer();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    try {
      await conn.write(encoder.encode(
        "GET / HTTP/1.0\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
          `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ));
      const responses = parseResponses(new TextDecoder("latin1").decode(await readToEnd(conn)));
      assert.deepEqual(responses.map((r) => r.status), [400]);
      assert.match(responses[0].body, /HTTP\/1\.1/);
    } finally {
      conn.close();
    }
  } finally {
    console.error = error;
  }
  assert.deepEqual(logged, [], "a client's mistake, not the engine's: nothing logged");
});
