/**
 * No silent engine failures: an exception that ends a connection and is not the peer's doing (a
 * reset, a broken pipe, a timeout) is logged once with its stack and counted in `stats()`, and
 * the other connections go on; the peer's doings stay quiet.
 */
import assert from "node:assert/strict";
import { Client, readToEnd, startServer } from "../helpers.ts";

const encoder = new TextEncoder();

/** Runs `body` with console.error captured; returns what was logged. */
async function capturingErrors(body: () => Promise<void>): Promise<unknown[][]> {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await body();
  } finally {
    console.error = error;
  }
  return logged;
}

/** `/bad` streams a chunk that is not bytes, which the engine cannot send. */
function handler(request: Request): Response {
  if (new URL(request.url).pathname !== "/bad") return new Response("fine");
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue("not bytes" as unknown as Uint8Array);
        controller.close();
      },
    }),
  );
}

Deno.test("an engine failure ends its connection only, logged once with its stack and counted", async () => {
  await using s = startServer(handler);
  const other = await Client.connect(s.port);
  try {
    const logged = await capturingErrors(async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      try {
        await conn.write(encoder.encode("GET /bad HTTP/1.1\r\nHost: t\r\n\r\n"));
        await readToEnd(conn);
      } finally {
        conn.close();
      }
      // A connection opened before goes on.
      await other.send("GET /fine HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.equal((await other.response()).body, "fine");
    });
    assert.equal(logged.length, 1);
    assert.match(String(logged[0][0]), /^sockserve: the connection with 127\.0\.0\.1:\d+ failed:$/);
    const error = logged[0][1] as Error;
    assert.ok(error instanceof TypeError);
    assert.match(error.stack ?? "", /\n\s+at /);
    assert.equal(s.server.stats().engineErrors, 1);
  } finally {
    other.close();
  }
});

Deno.test("a client that resets in the middle of a large answer is no engine failure: nothing is logged", async () => {
  const big = new Uint8Array(4 * 1024 * 1024);
  await using s = startServer(() => new Response(big));
  const logged = await capturingErrors(async () => {
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
      await conn.read(new Uint8Array(1024));
      conn.close(); // unread data in the client's buffer: the kernel sends a reset
    }
    const client = await Client.connect(s.port);
    await client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal((await client.response()).body.length, big.length);
    client.close();
  });
  assert.deepEqual(logged, []);
  assert.equal(s.server.stats().engineErrors, 0);
});
