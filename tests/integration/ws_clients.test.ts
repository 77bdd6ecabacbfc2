/**
 * Real clients against the server socket: Deno's own `WebSocket` and the `ws` package (the Node
 * ecosystem's client), with permessage-deflate negotiated and without.
 */
import assert from "node:assert/strict";
import NodeWebSocket from "ws";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "../../src/ws/upgrade_websocket.ts";
import { startEchoServer } from "../ws_helpers.ts";

const KiB = 1024;

/** Text that compresses as JSON does. */
function json(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ id: i, name: `user ${i}`, active: i % 2 === 0 })),
  );
}

function echoServer(options?: UpgradeWebSocketOptions) {
  return startEchoServer((request) => upgradeWebSocket(request, options));
}

Deno.test("Deno's WebSocket: text and binary echo, and a close it starts", async () => {
  await using server = echoServer();
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  assert.equal(ws.extensions, "", "Deno's client offers no compression");
  const messages: unknown[] = [];
  const received = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      messages.push(e.data);
      if (messages.length === 3) resolve();
    };
  });
  ws.send("hello");
  ws.send(new Uint8Array([1, 2, 3]));
  ws.send("x".repeat(300 * KiB));
  await received;
  assert.equal(messages[0], "hello");
  assert.deepEqual(new Uint8Array(messages[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
  assert.equal(messages[2], "x".repeat(300 * KiB));
  const serverClosed = new Promise<CloseEvent>((r) => server.sockets[0].onclose = r);
  const clientClosed = new Promise<CloseEvent>((r) => ws.onclose = r);
  ws.close(4000, "done");
  const [c, s] = await Promise.all([clientClosed, serverClosed]);
  assert.deepEqual([c.code, c.wasClean], [4000, true]);
  assert.deepEqual([s.code, s.reason, s.wasClean], [4000, "done", true]);
});

Deno.test("Deno's WebSocket: the server's close and the protocol it selected", async () => {
  await using server = echoServer({ protocol: "chat.v2" });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, ["chat.v1", "chat.v2"]);
  await new Promise((resolve) => ws.onopen = resolve);
  assert.equal(ws.protocol, "chat.v2");
  assert.equal(server.sockets[0].protocol, "chat.v2");
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  server.sockets[0].close(1001, "going away");
  const event = await closed;
  assert.deepEqual([event.code, event.reason, event.wasClean], [1001, "going away", true]);
});

type Node = InstanceType<typeof NodeWebSocket>;

async function connectNode(port: number, perMessageDeflate: boolean): Promise<Node> {
  const ws = new NodeWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

function nextMessage(ws: Node): Promise<{ data: Uint8Array; binary: boolean }> {
  return new Promise((resolve) => {
    ws.once("message", (data: Uint8Array, binary: boolean) => resolve({ data, binary }));
  });
}

async function closeNode(ws: Node, code = 1000): Promise<number> {
  const closed = new Promise<number>((resolve) => ws.once("close", (c: number) => resolve(c)));
  ws.close(code);
  return await closed;
}

for (const deflate of [true, false]) {
  const mode = deflate ? "with permessage-deflate" : "without permessage-deflate";

  Deno.test(`the ws package ${mode}: negotiation, echo of small and large messages`, async () => {
    await using server = echoServer();
    const ws = await connectNode(server.port, deflate);
    assert.equal(ws.extensions, deflate ? "permessage-deflate" : "");
    assert.equal(server.sockets[0].extensions, deflate ? "permessage-deflate" : "");
    for (const message of ["tiny", json(10), json(5000)]) {
      const echo = nextMessage(ws);
      ws.send(message);
      const { data, binary } = await echo;
      assert.equal(binary, false);
      assert.equal(new TextDecoder().decode(data), message);
    }
    const bytes = new Uint8Array(200 * KiB).map((_, i) => i % 251);
    const echo = nextMessage(ws);
    ws.send(bytes);
    const got = await echo;
    assert.equal(got.binary, true);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(bytes)));
    assert.equal(await closeNode(ws), 1000);
  });

  Deno.test(`the ws package ${mode}: a ping is answered with a pong of the same payload`, async () => {
    await using server = echoServer();
    const ws = await connectNode(server.port, deflate);
    const pong = new Promise<Uint8Array>((resolve) => ws.once("pong", resolve));
    ws.ping("are you there?");
    assert.equal(new TextDecoder().decode(await pong), "are you there?");
    assert.equal(await closeNode(ws, 4999), 4999);
  });
}

Deno.test("the ws package: compressed frames are smaller on the wire than the messages", async () => {
  await using server = echoServer();
  const ws = await connectNode(server.port, true);
  const message = json(3000);
  const before = (ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
  const echo = nextMessage(ws);
  ws.send(message);
  assert.equal(new TextDecoder().decode((await echo).data), message);
  const read = (ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead - before;
  assert.ok(read < message.length / 4, `${read} bytes read for ${message.length}`);
  assert.equal(await closeNode(ws), 1000);
});

Deno.test("the ws package: compression: false leaves the offer unanswered", async () => {
  await using server = echoServer({ compression: false });
  const ws = await connectNode(server.port, true);
  assert.equal(ws.extensions, "");
  const echo = nextMessage(ws);
  ws.send(json(100));
  assert.equal(new TextDecoder().decode((await echo).data), json(100));
  assert.equal(await closeNode(ws), 1000);
});

Deno.test("the ws package: a message over maxMessageBytes is closed with 1009", async () => {
  await using server = echoServer({ maxMessageBytes: 64 * KiB });
  const ws = await connectNode(server.port, true);
  const closed = new Promise<number>((resolve) => ws.once("close", (c: number) => resolve(c)));
  ws.send("y".repeat(64 * KiB + 1));
  assert.equal(await closed, 1009);
});
