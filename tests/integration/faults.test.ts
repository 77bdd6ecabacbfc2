/**
 * Faults and load over real sockets: half-close, resets mid-response, a client that never reads,
 * a file that shrinks or disappears while it is streamed, a handler that never answers,
 * slowloris, and the connection limit. Each case must cost that one connection and no more: the
 * server still answers a normal request and, once quiescent, holds no more descriptors than
 * before. (The basic requestTimeout and maxConnections behaviours are in conn.test.ts; these add
 * the cost checks and the load.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileServer } from "../../mod.ts";
import { Client, deferred, parseResponses, readToEnd, startServer } from "../helpers.ts";
import { openFds, quiescent, resetAfter, send, waitUntil } from "./conn_fuzz_live.ts";

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** A body of `mib` MiB produced chunk by chunk (never held whole). */
function streamed(mib: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x7a);
  return new ReadableStream({
    pull(controller) {
      if (sent >= mib * 16) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
}

function handler(req: Request): Response | Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/stream") {
    return new Response(streamed(Number(url.searchParams.get("mib"))));
  }
  return new Response(`hello ${url.pathname}`);
}

/** A normal request on a new connection: the server still does its job. */
async function assertServes(port: number): Promise<void> {
  const client = await Client.connect(port);
  try {
    await client.send(GET("/normal"));
    const res = await client.response();
    assert.equal(res.status, 200);
    assert.equal(res.body, "hello /normal");
  } finally {
    client.close();
  }
}

/** A started server plus the descriptor count with it idle. */
async function fixture(h = handler, limits = {}) {
  const s = startServer(h, { limits });
  await assertServes(s.port); // warm up: lazily created resources are part of the baseline
  await quiescent(s.server, Infinity);
  return { s, baseline: await openFds() };
}

Deno.test("half-close: a request followed by closeWrite() still gets its response", async () => {
  const { s, baseline } = await fixture();
  await using _ = s;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await send(conn, GET("/half") + GET("/closed"));
  await conn.closeWrite();
  const responses = parseResponses(new TextDecoder().decode(await readToEnd(conn)));
  conn.close();
  assert.deepEqual(responses.map((r) => r.body), ["hello /half", "hello /closed"]);
  await assertServes(s.port);
  await quiescent(s.server, baseline);
});

Deno.test("a client that resets mid-response costs only its connection", async () => {
  const { s, baseline } = await fixture();
  await using _ = s;
  for (const bytes of [1, 100_000, 3_000_000]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await send(conn, GET("/stream?mib=32"));
    await resetAfter(conn, bytes); // unread data left behind: the close is a RST
  }
  await assertServes(s.port);
  await quiescent(s.server, baseline);
});

Deno.test("a client that never reads blocks only its own connection", async () => {
  const { s, baseline } = await fixture();
  await using _ = s;
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await send(stuck, GET("/stream?mib=256"));
  // The server writes until the socket buffers are full, then its write waits on this client.
  await waitUntil(() => s.server.stats().bytesOut > 1 << 20, "server writing to the stuck client");
  const before = s.server.stats().bytesOut;
  for (let i = 0; i < 5; i++) await assertServes(s.port);
  assert.ok(s.server.stats().connections >= 1, "the stuck connection is still open");
  assert.ok(s.server.stats().bytesOut - before < 256 << 20, "the stuck response did not finish");
  // Until writeTimeout (60 s by default; conn.test.ts checks it) only the client leaving frees
  // it: closing with unread data resets the connection, the pending write fails, and the server
  // lets go of everything.
  stuck.close();
  await quiescent(s.server, baseline);
});

Deno.test("a file truncated or deleted while fileServer streams it: one connection, no leak", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-faults-" });
  const size = 16 << 20;
  await Deno.writeTextFile(join(dir, "normal"), "hello /normal");
  const { s, baseline } = await fixture(fileServer(dir));
  await using _ = s;
  try {
    for (const fault of ["truncate", "delete"] as const) {
      const path = join(dir, `${fault}.bin`);
      await Deno.writeFile(path, new Uint8Array(size).fill(0x41));
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      await send(conn, GET(`/${fault}.bin`, "Connection: close\r\n"));
      // The response has started: its head and the first bytes are here.
      const first = new Uint8Array(64 * 1024);
      const n = (await conn.read(first))!;
      const headText = new TextDecoder().decode(first.subarray(0, n));
      assert.match(headText, new RegExp(`content-length: ${size}\r\n`, "i"));
      if (fault === "truncate") await Deno.truncate(path, 1000);
      else await Deno.remove(path);
      const rest = await readToEnd(conn); // ends: the server closes rather than hang
      conn.close();
      const bodyStart = headText.indexOf("\r\n\r\n") + 4;
      const received = n - bodyStart + rest.length;
      if (fault === "truncate") {
        // Fewer bytes than announced, then the close: the client can tell the body is cut.
        assert.ok(received < size, `received ${received} of ${size}`);
      } else {
        // An open file outlives its name (POSIX): the whole body arrives.
        assert.equal(received, size);
      }
      await assertServes(s.port);
      await quiescent(s.server, baseline); // the file handle was closed too
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a handler that never resolves: requestTimeout answers 503 and frees the connection", async () => {
  const never = deferred<Response>();
  const { s, baseline } = await fixture(
    (req) => new URL(req.url).pathname === "/never" ? never.promise : handler(req),
    { requestTimeout: 200 },
  );
  await using _ = s;
  const clients = await Promise.all([1, 2, 3].map(() => Client.connect(s.port)));
  await Promise.all(clients.map((c) => c.send(GET("/never"))));
  await assertServes(s.port); // served while the three wait
  for (const c of clients) {
    const text = await c.rest();
    assert.equal(parseResponses(text)[0].status, 503);
    c.close();
  }
  await quiescent(s.server, baseline);
  never.resolve(new Response("too late"));
});

Deno.test("slowloris: 500 trickling connections get 408 while a normal client is served", async () => {
  const { s, baseline } = await fixture(handler, { headersTimeout: 3000 });
  await using _ = s;
  const count = 500;
  const slow = await Promise.all(
    Array.from({ length: count }, () => Deno.connect({ hostname: "127.0.0.1", port: s.port })),
  );
  await Promise.all(slow.map((c) => send(c, "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")));
  // Load, not synchronisation: each keeps trickling one byte of its head until it is closed.
  const trickle = setInterval(() => {
    for (const c of slow) c.write(new Uint8Array([0x61])).catch(() => {});
  }, 250);
  try {
    await waitUntil(() => s.server.stats().connections === count, "all 500 accepted");
    await assertServes(s.port);
    assert.ok(
      s.server.stats().connections >= count,
      "the normal client was served while all 500 slow connections were still open",
    );
    // Each slow connection is answered 408 and closed by the header timeout.
    const answers = await Promise.all(slow.map(async (c) => {
      const text = new TextDecoder().decode(await readToEnd(c));
      c.close();
      return text.slice(0, 12);
    }));
    assert.deepEqual(new Set(answers), new Set(["HTTP/1.1 408"]));
  } finally {
    clearInterval(trickle);
  }
  await assertServes(s.port);
  await quiescent(s.server, baseline);
});

Deno.test("maxConnections: clients over the limit wait in the backlog and are all served", async () => {
  const { s, baseline } = await fixture(handler, { maxConnections: 2 });
  await using _ = s;
  const clients = await Promise.all(Array.from({ length: 6 }, () => Client.connect(s.port)));
  await Promise.all(clients.map((c, i) => c.send(GET(`/c${i}`, "Connection: close\r\n"))));
  assert.ok(s.server.stats().connections <= 2);
  // Each answered connection closes and lets the next one in: all six are served, in time.
  const bodies = await Promise.all(clients.map(async (c) => {
    const text = await c.rest();
    c.close();
    return parseResponses(text)[0].body;
  }));
  assert.deepEqual(bodies, clients.map((_, i) => `hello /c${i}`));
  await assertServes(s.port);
  await quiescent(s.server, baseline);
});
