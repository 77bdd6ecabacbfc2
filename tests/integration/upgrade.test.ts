/**
 * A 101 over real sockets: the engine writes the claimed 101 (with `Connection: upgrade`), stops
 * reading HTTP and hands the same socket to the protocol, starting with the bytes the client sent
 * right after its request head; a 101 the engine did not make (`Deno.upgradeWebSocket`'s) is a
 * 500. The connection stays counted until the protocol closes it, and shutdown tells the protocol
 * before its grace period closes it.
 */
import assert from "node:assert/strict";
import { serve, upgrade } from "../../mod.ts";
import { type ByteChannel, claimUpgrade } from "../../src/conn/upgrade.ts";
import { deferred, parseResponses, readToEnd, startServer } from "../helpers.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

const UPGRADE = "GET /chat HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\n" +
  "Upgrade: echo\r\n\r\n";

/** Echoes the bytes of an `Upgrade: echo` connection through `upgrade()`'s streams. */
function echoHandler(request: Request): Response {
  const { response, socket } = upgrade(request, {
    protocol: "echo",
    headers: { "x-protocol": "echo" },
  });
  socket.then(({ readable, writable }) => readable.pipeTo(writable));
  return response;
}

/** Reads from `conn` until `text` has arrived; returns everything read. */
async function readUntil(conn: Deno.Conn, text: string, seen = ""): Promise<string> {
  const buf = new Uint8Array(4096);
  while (!seen.includes(text)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed before ${JSON.stringify(text)}; got ${seen}`);
    seen += latin1.decode(buf.subarray(0, n));
  }
  return seen;
}

Deno.test("upgrade(): the 101 goes out, then the socket echoes the bytes sent with the head and after", async () => {
  await using s = startServer(echoHandler);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await conn.write(encoder.encode(UPGRADE + "hello|"));
    const seen = await readUntil(conn, "hello|");
    const head = seen.slice(0, seen.indexOf("\r\n\r\n")).toLowerCase();
    assert.match(head, /^http\/1\.1 101 switching protocols\r\n/);
    assert.match(head, /\r\nconnection: upgrade(\r\n|$)/);
    assert.match(head, /\r\nupgrade: echo(\r\n|$)/);
    assert.match(head, /\r\nx-protocol: echo(\r\n|$)/);
    assert.doesNotMatch(head, /content-length|transfer-encoding/);
    assert.equal(seen.slice(seen.indexOf("\r\n\r\n") + 4), "hello|");
    // HTTP is over: what follows is echoed, not parsed as a request.
    await conn.write(encoder.encode("GET / HTTP/1.1\r\n\r\n"));
    await readUntil(conn, "GET / HTTP/1.1\r\n\r\n");
    assert.equal(s.server.stats().connections, 1);
    // The client's end ends the echo, which closes the connection.
    await conn.closeWrite();
    assert.equal(latin1.decode(await readToEnd(conn)), "");
  } finally {
    conn.close();
  }
});

Deno.test("upgrade() from an async handler: the bytes the client sends while it works come first", async () => {
  const entered = deferred();
  const go = deferred();
  await using s = startServer(async (request) => {
    entered.resolve();
    await go.promise;
    return echoHandler(request);
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await conn.write(encoder.encode(UPGRADE));
    await entered.promise;
    // Sent before the handler answers: the engine is reading the socket meanwhile (to notice a
    // client that leaves), and these bytes are the new protocol's.
    await conn.write(encoder.encode("early|"));
    go.resolve();
    const seen = await readUntil(conn, "early|");
    assert.equal(seen.slice(seen.indexOf("\r\n\r\n") + 4), "early|");
    await conn.write(encoder.encode("late|"));
    await readUntil(conn, "late|");
    await conn.closeWrite();
    assert.equal(latin1.decode(await readToEnd(conn)), "");
  } finally {
    conn.close();
  }
});

Deno.test("upgrade(): the connection stays open and counted until the protocol closes it", async () => {
  const opened = deferred<{ close(): void }>();
  await using s = startServer((request) => {
    const { response, socket } = upgrade(request, { protocol: "echo" });
    socket.then(opened.resolve);
    return response;
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await conn.write(encoder.encode(UPGRADE));
    await readUntil(conn, "\r\n\r\n");
    const socket = await opened.promise;
    assert.equal(s.server.stats().connections, 1);
    socket.close();
    assert.equal(latin1.decode(await readToEnd(conn)), "");
    await s.server.shutdown();
    assert.equal(s.server.stats().connections, 0);
    assert.equal(s.server.stats().requests, 1);
  } finally {
    conn.close();
  }
});

Deno.test("upgrade() refuses a request that does not ask for the protocol, with a TypeError", () => {
  const request = (headers: Record<string, string>) =>
    new Request("http://t/", { headers: { host: "t", ...headers } });
  assert.throws(() => upgrade(request({}), { protocol: "echo" }), TypeError);
  assert.throws(
    () => upgrade(request({ upgrade: "other", connection: "upgrade" }), { protocol: "echo" }),
    TypeError,
  );
  assert.throws(() => upgrade(request({ upgrade: "echo" }), { protocol: "echo" }), TypeError);
  assert.throws(
    () => upgrade(request({ upgrade: "echo", connection: "close" }), { protocol: "echo" }),
    TypeError,
  );
  // Names are compared case-insensitively, and a versioned offer matches its protocol.
  assert.equal(
    upgrade(request({ upgrade: "h2c, Echo/2", connection: "Upgrade" }), { protocol: "echo" })
      .response.status,
    101,
  );
});

Deno.test("a 101 from Deno.upgradeWebSocket is answered 500 with Connection: close, and logged once", async () => {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await using s = startServer((request) => Deno.upgradeWebSocket(request).response);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    try {
      await conn.write(encoder.encode(
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
          "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
      ));
      const responses = parseResponses(latin1.decode(await readToEnd(conn)));
      assert.deepEqual(responses.map((r) => r.status), [500]);
      assert.equal(responses[0].headers.get("connection"), "close");
    } finally {
      conn.close();
    }
  } finally {
    console.error = error;
  }
  assert.equal(logged.length, 1);
  assert.match(String(logged[0][0]), /101 response not made by sockserve's upgradeWebSocket/);
});

/** A claimed 101 whose protocol says `bye` on shutdown, or ignores it when `polite` is false. */
function byeHandler(polite: boolean, channels: ByteChannel[]) {
  return () => {
    const response = new Response(null, { status: 101, headers: { upgrade: "bye" } });
    claimUpgrade(response, (channel) => {
      channels.push(channel);
      if (!polite) return;
      channel.onShutdown = () => {
        channel.write(encoder.encode("bye")).finally(() => channel.close());
      };
    });
    return response;
  };
}

for (const polite of [true, false]) {
  Deno.test(
    polite
      ? "shutdown tells an upgraded protocol, which says goodbye and closes"
      : "shutdown closes an upgraded protocol that ignores it when the grace period ends",
    async () => {
      const channels: ByteChannel[] = [];
      const server = serve(
        { hostname: "127.0.0.1", port: 0, onListen() {}, limits: { shutdownGracePeriod: 100 } },
        byeHandler(polite, channels),
      );
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      try {
        await conn.write(encoder.encode(
          "GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: bye\r\n\r\n",
        ));
        await readUntil(conn, "\r\n\r\n");
        const started = performance.now();
        await server.shutdown();
        const tail = latin1.decode(await readToEnd(conn));
        assert.equal(tail, polite ? "bye" : "");
        if (polite) assert.ok(performance.now() - started < 100, "closed before the grace period");
        await channels[0].closed;
      } finally {
        conn.close();
      }
    },
  );
}
