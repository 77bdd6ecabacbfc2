/**
 * The server socket's `WebSocket` surface over a real connection: events, states, `send` and
 * `close` with their argument checks, `binaryType`, back-pressure in `bufferedAmount`, the idle
 * ping, the close timeout and the server's shutdown. A raw client reads the bytes on the wire.
 */
import assert from "node:assert/strict";
import { OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT } from "../../src/ws/frame.ts";
import type { ServerWebSocket } from "../../src/ws/socket.ts";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "../../src/ws/upgrade_websocket.ts";
import { closeOf, RawClient, startWsServer } from "../ws_helpers.ts";

/**
 * A server whose one socket `setup` wires; `socket` resolves once the handler ran, `opened` once
 * the socket's open event fired (listened for before the handler returns).
 */
function serverWith(setup: (socket: ServerWebSocket) => void, options?: UpgradeWebSocketOptions) {
  let resolveSocket!: (socket: ServerWebSocket) => void;
  let resolveOpened!: () => void;
  const socket = new Promise<ServerWebSocket>((resolve) => resolveSocket = resolve);
  const opened = new Promise<void>((resolve) => resolveOpened = resolve);
  const server = startWsServer((request) => {
    const upgrade = upgradeWebSocket(request, options);
    upgrade.socket.addEventListener("open", () => resolveOpened());
    setup(upgrade.socket);
    resolveSocket(upgrade.socket);
    return upgrade.response;
  });
  return { server, socket, opened };
}

function closeEvent(socket: ServerWebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => socket.addEventListener("close", resolve));
}

const decoder = new TextDecoder();

Deno.test("the socket opens once the 101 is written, and reports messages, then its close", async () => {
  const events: string[] = [];
  const { server, socket: ready } = serverWith((socket) => {
    assert.equal(socket.readyState, socket.CONNECTING);
    socket.onopen = () => events.push(`open ${socket.readyState}`);
    socket.onmessage = (e) => events.push(`message ${e.data}`);
    socket.addEventListener("close", (e) => events.push(`close ${e.code} ${e.wasClean}`));
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await client.send(client.frame(OP_TEXT, "hi"));
  await client.send(client.frame(OP_CLOSE, new Uint8Array([0x0f, 0xa0])));
  const closed = closeEvent(socket);
  assert.equal(closeOf((await client.readFrame())!).code, 4000);
  assert.equal(await client.readFrame(), null);
  await closed;
  assert.deepEqual(events, ["open 1", "message hi", "close 4000 true"]);
  assert.equal(socket.readyState, WebSocket.CLOSED);
  client.close();
});

Deno.test("the socket has WebSocket's constants, Deno's server defaults, and handler properties", async () => {
  const { server, socket: ready } = serverWith(() => {}, { protocol: "chat" });
  await using _ = server;
  const client = await RawClient.connect(server.port, "Sec-WebSocket-Protocol: x, chat\r\n");
  const socket = await ready;
  const Class = socket.constructor as typeof WebSocket;
  assert.deepEqual(
    [Class.CONNECTING, Class.OPEN, Class.CLOSING, Class.CLOSED],
    [socket.CONNECTING, socket.OPEN, socket.CLOSING, socket.CLOSED],
  );
  assert.deepEqual([socket.CONNECTING, socket.CLOSED], [0, 3]);
  assert.equal(socket.binaryType, "arraybuffer");
  socket.binaryType = "nonsense" as BinaryType;
  assert.equal(socket.binaryType, "arraybuffer", "an unknown binaryType is ignored");
  assert.equal(socket.url, "");
  assert.equal(socket.protocol, "chat");
  assert.match(client.head, /sec-websocket-protocol: chat\r\n/i);
  assert.equal(socket.extensions, "");
  assert.equal(socket.onmessage, null);
  const first = () => {};
  socket.onmessage = first;
  assert.equal(socket.onmessage, first);
  socket.onmessage = null;
  assert.equal(socket.onmessage, null);
  socket.close();
  const close = await client.readFrame();
  assert.equal(close?.payload.length, 0, "close() without a code sends an empty close frame");
  await client.send(client.frame(OP_CLOSE));
  assert.equal(await client.readFrame(), null);
  client.close();
});

Deno.test("send takes strings, buffers, views and Blobs, and keeps their order", async () => {
  const { server, socket: ready } = serverWith((socket) => {
    socket.onopen = () => {
      socket.send("text");
      socket.send(new Blob([new Uint8Array([1, 2])]));
      socket.send(new Uint8Array([9, 3, 4, 9]).subarray(1, 3));
      socket.send(new Uint8Array([5, 6]).buffer);
      socket.send(new DataView(new Uint8Array([7, 8]).buffer));
      socket.send("last");
    };
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  const got: string[] = [];
  for (let i = 0; i < 6; i++) {
    const f = (await client.readFrame())!;
    got.push(f.opcode === OP_TEXT ? decoder.decode(f.payload) : `${f.opcode}:${f.payload}`);
  }
  assert.deepEqual(got, ["text", "2:1,2", "2:3,4", "2:5,6", "2:7,8", "last"]);
  const closed = closeEvent(socket);
  socket.close(1000);
  await client.send(client.frame(OP_CLOSE, (await client.readFrame())!.payload));
  assert.equal(await client.readFrame(), null);
  assert.equal((await closed).wasClean, true);
  client.close();
});

Deno.test("binaryType blob delivers binary messages as Blobs", async () => {
  let resolveData!: (data: unknown) => void;
  const data = new Promise((resolve) => resolveData = resolve);
  const { server, socket: ready } = serverWith((socket) => {
    socket.binaryType = "blob";
    socket.onmessage = (e) => resolveData(e.data);
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await client.send(client.frame(OP_BINARY, new Uint8Array([1, 2, 3])));
  const blob = await data;
  assert.ok(blob instanceof Blob);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([1, 2, 3]));
  socket.close(1001);
  await client.send(client.frame(OP_CLOSE, (await client.readFrame())!.payload));
  assert.equal(await client.readFrame(), null);
  client.close();
});

Deno.test("send and close check their arguments as the standard says", async () => {
  const { server, socket: ready, opened } = serverWith((socket) => {
    assert.throws(() => socket.send("early"), { name: "InvalidStateError" });
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await opened;
  for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
    assert.throws(() => socket.close(code), { name: "InvalidAccessError" }, `${code}`);
  }
  assert.throws(() => socket.close(1000, "é".repeat(62)), { name: "SyntaxError" });
  assert.throws(() => (socket.send as () => void)(), TypeError);
  assert.equal(socket.readyState, WebSocket.OPEN, "a refused close changes nothing");
  socket.close(undefined, "a reason alone");
  assert.equal(socket.readyState, WebSocket.CLOSING);
  assert.throws(() => socket.send("late"), { name: "InvalidStateError" });
  const close = closeOf((await client.readFrame())!);
  assert.deepEqual(close, { code: 1000, reason: "a reason alone" });
  await client.send(client.frame(OP_CLOSE, new Uint8Array([0x03, 0xe8])));
  assert.equal(await client.readFrame(), null);
  client.close();
});

Deno.test("close() before the socket opens closes it as soon as the 101 is written", async () => {
  const events: string[] = [];
  const { server, socket: ready } = serverWith((socket) => {
    socket.onopen = () => events.push("open");
    socket.onclose = (e) => events.push(`close ${e.code}`);
    socket.close(4001, "not now");
    assert.equal(socket.readyState, WebSocket.CLOSING);
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  const closed = closeEvent(socket);
  assert.deepEqual(closeOf((await client.readFrame())!), { code: 4001, reason: "not now" });
  await client.send(client.frame(OP_CLOSE, new Uint8Array([0x0f, 0xa1])));
  assert.equal(await client.readFrame(), null);
  await closed;
  assert.deepEqual(events, ["close 4001"]);
  client.close();
});

Deno.test("a peer that never answers the close is disconnected after closeTimeout", async () => {
  const { server, socket: ready, opened } = serverWith(() => {}, { closeTimeout: 0.05 });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await opened;
  const closed = closeEvent(socket);
  socket.close(1000);
  assert.equal((await client.readFrame())?.opcode, OP_CLOSE);
  assert.equal(await client.readFrame(), null, "the server closes without the answer");
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean], [1006, false]);
  client.close();
});

Deno.test("a peer that leaves without a close frame: error, then close 1006", async () => {
  const events: string[] = [];
  const { server, socket: ready, opened } = serverWith((socket) => {
    socket.onerror = () => events.push("error");
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await opened;
  const closed = closeEvent(socket);
  client.close();
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean, events], [1006, false, ["error"]]);
});

Deno.test("a protocol error: error event, close 1002 on the wire, close event unclean", async () => {
  const events: string[] = [];
  const { server, socket: ready } = serverWith((socket) => {
    socket.onerror = (e) => events.push(`error ${(e as ErrorEvent).message}`);
  });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  const closed = closeEvent(socket);
  await client.send(new Uint8Array([0x81, 0x02, 0x68, 0x69])); // unmasked
  const close = (await client.readFrame())!;
  assert.deepEqual(closeOf(close), { code: 1002, reason: "unmasked client frame" });
  await client.send(client.frame(OP_CLOSE, close.payload.subarray(0, 2)));
  assert.equal(await client.readFrame(), null);
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean], [1002, false]);
  assert.deepEqual(events, ["error unmasked client frame"]);
  client.close();
});

Deno.test("a slow reader grows bufferedAmount; it falls back to 0 once the reader caught up", async () => {
  const message = new Uint8Array(64 * 1024).fill(7);
  const count = 400; // 25 MiB: more than loopback's socket buffers hold
  const total = count * message.length;
  const reports: ((amount: number) => void)[] = [];
  const { server, socket: ready } = serverWith((socket) => {
    socket.onopen = () => {
      for (let i = 0; i < count; i++) socket.send(message);
      reports.shift()!(socket.bufferedAmount);
    };
    socket.onmessage = () => reports.shift()!(socket.bufferedAmount);
  });
  const report = () => new Promise<number>((resolve) => reports.push(resolve));
  const sent = report();
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  assert.equal(await sent, total, "everything sent is counted until the socket takes it");
  assert.equal((await client.readFrame())?.payload.length, message.length);
  const whileSlow = report();
  await client.send(client.frame(OP_TEXT, "one read"));
  const queued = await whileSlow;
  assert.ok(queued > 0 && queued < total, `${queued} bytes wait while the reader is slow`);
  for (let i = 1; i < count; i++) {
    assert.equal((await client.readFrame())?.payload.length, message.length);
  }
  const caughtUp = report();
  await client.send(client.frame(OP_TEXT, "all read"));
  assert.equal(await caughtUp, 0);
  socket.close(1000);
  await client.send(client.frame(OP_CLOSE, (await client.readFrame())!.payload));
  assert.equal(await client.readFrame(), null);
  client.close();
});

Deno.test("idleTimeout: a quiet peer gets pings, and one that stops answering is closed with 1001", async () => {
  const events: string[] = [];
  const { server, socket: ready } = serverWith((socket) => {
    socket.onerror = (e) => events.push(`error ${(e as ErrorEvent).message}`);
  }, { idleTimeout: 0.1 });
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  const closed = closeEvent(socket);
  const ping = await client.readFrame();
  assert.equal(ping?.opcode, OP_PING);
  await client.send(client.frame(OP_PONG, ping!.payload));
  assert.equal((await client.readFrame())?.opcode, OP_PING, "answered, the peer is pinged again");
  const close = await client.readFrame(); // this time, no pong
  assert.deepEqual(closeOf(close!), { code: 1001, reason: "No response from ping frame." });
  assert.equal(await client.readFrame(), null);
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean], [1001, false]);
  assert.deepEqual(events, ["error No response from ping frame."]);
  client.close();
});

Deno.test("the server's shutdown closes open sockets with 1001", async () => {
  const { server, socket: ready, opened } = serverWith(() => {});
  await using _ = server;
  const client = await RawClient.connect(server.port);
  const socket = await ready;
  await opened;
  const closed = closeEvent(socket);
  server.shutdown();
  const close = (await client.readFrame())!;
  assert.equal(closeOf(close).code, 1001);
  await client.send(client.frame(OP_CLOSE, close.payload));
  assert.equal(await client.readFrame(), null);
  const event = await closed;
  assert.deepEqual([event.code, event.wasClean], [1001, true]);
  client.close();
});

Deno.test("bytes that follow the handshake in the same packet are the first frames read", async () => {
  let resolveMessage!: (data: unknown) => void;
  const message = new Promise((resolve) => resolveMessage = resolve);
  const { server, socket: ready } = serverWith((socket) => {
    socket.onmessage = (e) => resolveMessage(e.data);
  });
  await using _ = server;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const frame = new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
  const head = new TextEncoder().encode(
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await conn.write(new Uint8Array([...head, ...frame]));
  assert.equal(await message, "hi");
  const socket = await ready;
  const closed = closeEvent(socket);
  conn.close();
  await closed;
});
