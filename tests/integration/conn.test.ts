/** The connection loop over real sockets: keep-alive, pipelining, desync, errors, limits, timeouts. */
import assert from "node:assert/strict";
import { Client, deferred, exchange, parseResponses, readToEnd, startServer } from "../helpers.ts";
import { waitUntil } from "./conn_fuzz_live.ts";

/** Answers with the method and path; records every path it sees. */
function recorder() {
  const seen: string[] = [];
  const handler = async (req: Request) => {
    const url = new URL(req.url);
    seen.push(url.pathname);
    if (url.pathname === "/throw") throw new Error("handler failure (expected by the test)");
    if (url.pathname === "/echo") return new Response(await req.text());
    return new Response(`${req.method} ${url.pathname}`);
  };
  return { seen, handler };
}

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

Deno.test("100 requests on one keep-alive connection", async () => {
  const { seen, handler } = recorder();
  await using s = startServer(handler);
  const client = await Client.connect(s.port);
  for (let i = 0; i < 100; i++) {
    await client.send(GET(`/r${i}`));
    const res = await client.response();
    assert.equal(res.status, 200);
    assert.equal(res.body, `GET /r${i}`);
    assert.equal(res.headers.get("connection"), undefined);
  }
  client.close();
  assert.equal(seen.length, 100);
});

Deno.test("10 pipelined requests in one write are answered in order", async () => {
  const { handler } = recorder();
  await using s = startServer(handler);
  let batch = "";
  for (let i = 0; i < 9; i++) batch += GET(`/p${i}`);
  batch += GET("/p9", "Connection: close\r\n");
  const responses = parseResponses(await exchange(s.port, batch));
  assert.deepEqual(
    responses.map((r) => r.body),
    Array.from({ length: 10 }, (_, i) => `GET /p${i}`),
  );
  assert.equal(responses[9].headers.get("connection"), "close");
});

Deno.test("a pipelined batch: empty lines between requests, then a head over the limit", async () => {
  const { handler } = recorder();
  await using s = startServer(handler, { limits: { maxHeaderBytes: 256 } });
  const batch = GET("/a") + "\r\n" + GET("/b") + GET("/c", `X-Big: ${"x".repeat(300)}\r\n`) +
    GET("/never");
  const responses = parseResponses(await exchange(s.port, batch));
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 431]);
  assert.deepEqual(responses.slice(0, 2).map((r) => r.body), ["GET /a", "GET /b"]);
  assert.equal(responses[2].headers.get("connection"), "close");
});

/**
 * Malformed requests, each followed in the same write by a request for /smuggled. The server
 * must answer the malformed one with the given status, close, and never serve /smuggled.
 */
const desync: [string, string, number][] = [
  ["bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400],
  ["space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400],
  ["two Host fields", "GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400],
  [
    "CL.TE",
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "TE.CL",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n",
    400,
  ],
  [
    "TE.TE obfuscated",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "differing Content-Length",
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    400,
  ],
  ["signed Content-Length", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +2\r\n\r\nab", 400],
  [
    "bad chunk size",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk data longer than its size",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
    400,
  ],
  ["NUL in a value", "GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n", 400],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505],
  ["CONNECT", "CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n", 501],
  ["TRACE (forbidden by fetch)", "TRACE / HTTP/1.1\r\nHost: t\r\n\r\n", 501],
  ["unsupported expectation", "GET / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417],
  ["invalid Host", "GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n", 400],
  [
    "Transfer-Encoding in HTTP/1.0",
    "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
];
for (const [name, bad, status] of desync) {
  Deno.test(`no desync after a malformed request: ${name} → ${status}`, async () => {
    const { seen, handler } = recorder();
    await using s = startServer(handler);
    const text = await exchange(s.port, bad + GET("/smuggled"));
    const responses = parseResponses(text);
    assert.equal(responses.length, 1, text);
    assert.equal(responses[0].status, status, text);
    assert.equal(responses[0].headers.get("connection"), "close");
    assert.ok(!seen.includes("/smuggled"), "the request after the bad one was never served");
  });
}

Deno.test("a handler that throws gives 500, and the next request on the connection succeeds", async () => {
  const { handler } = recorder();
  const errors: unknown[] = [];
  await using s = startServer(handler, {
    onError(error) {
      errors.push(error);
      return new Response("custom 500", { status: 500 });
    },
  });
  const client = await Client.connect(s.port);
  await client.send(GET("/throw"));
  const failed = await client.response();
  assert.equal(failed.status, 500);
  assert.equal(failed.body, "custom 500");
  assert.equal(errors.length, 1);
  await client.send(GET("/after"));
  assert.equal((await client.response()).body, "GET /after");
  client.close();
});

Deno.test("a handler returning a non-Response, and a failing onError, give a plain 500", async () => {
  await using s = startServer(() => ({ not: "a response" }) as unknown as Response, {
    onError() {
      throw new Error("onError fails too");
    },
  });
  const res = parseResponses(await exchange(s.port, GET("/", "Connection: close\r\n")));
  assert.equal(res[0].status, 500);
  assert.ok(!res[0].body.includes("at "), "no stack trace in the body");
});

Deno.test("a slow handler does not block other connections", async () => {
  const release = deferred();
  const started = deferred();
  await using s = startServer(async (req) => {
    if (new URL(req.url).pathname === "/slow") {
      started.resolve();
      await release.promise;
      return new Response("slow done");
    }
    return new Response("fast");
  });
  const slow = await Client.connect(s.port);
  await slow.send(GET("/slow"));
  await started.promise;
  const fast = await Client.connect(s.port);
  await fast.send(GET("/fast"));
  assert.equal((await fast.response()).body, "fast");
  release.resolve();
  assert.equal((await slow.response()).body, "slow done");
  slow.close();
  fast.close();
});

Deno.test("graceful shutdown lets an in-flight request finish, then refuses connections", async () => {
  const release = deferred();
  const started = deferred();
  const s = startServer(async () => {
    started.resolve();
    await release.promise;
    return new Response("finished in flight");
  });
  const client = await Client.connect(s.port);
  await client.send(GET("/"));
  await started.promise;
  const idle = await Client.connect(s.port);
  await idle.send(GET("/x"));
  const stopping = s.server.shutdown();
  release.resolve();
  const res = await client.response();
  assert.equal(res.body, "finished in flight");
  assert.equal(res.headers.get("connection"), "close");
  await stopping;
  await s.server.finished;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s.port }));
  client.close();
  idle.close();
});

Deno.test("shutdown closes idle keep-alive connections at once", async () => {
  const s = startServer(() => new Response("ok"));
  const client = await Client.connect(s.port);
  await client.send(GET("/"));
  await client.response();
  await s.server.shutdown();
  assert.equal(await client.rest(), "", "the idle connection was closed with nothing more sent");
  client.close();
});

Deno.test("Expect: 100-continue is answered when the handler reads the body", async () => {
  const { handler } = recorder();
  await using s = startServer(handler);
  const client = await Client.connect(s.port);
  await client.send(
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
  );
  const interim = await client.response();
  assert.equal(interim.status, 100);
  await client.send("hello");
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body, "hello");
  client.close();
});

Deno.test("Expect: 100-continue with a handler that ignores the body: no 100, then close", async () => {
  await using s = startServer(() => new Response("no thanks", { status: 413 }));
  const text = await exchange(
    s.port,
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
  );
  const responses = parseResponses(text);
  assert.deepEqual(responses.map((r) => r.status), [413]);
  assert.equal(responses[0].headers.get("connection"), "close");
});

Deno.test("an unread small body is drained and the next pipelined request is served", async () => {
  const { seen } = recorder();
  await using s = startServer((req) => {
    seen.push(new URL(req.url).pathname);
    return new Response("ignored the body");
  });
  const chunked = "POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "3\r\nabc\r\n0\r\n\r\n";
  const text = await exchange(
    s.port,
    "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789" + chunked +
      GET("/c", "Connection: close\r\n"),
  );
  assert.equal(parseResponses(text).length, 3);
  assert.deepEqual(seen, ["/a", "/b", "/c"]);
});

Deno.test("a body the handler is still reading when it answers is not drained: the connection closes", async () => {
  let handlerRead: Promise<unknown> = Promise.resolve();
  await using s = startServer((req) => {
    if (new URL(req.url).pathname !== "/early") return new Response("next");
    // A read in flight (the client holds the body back) while the answer goes out.
    handlerRead = req.body!.getReader().read().catch((error) => error);
    return new Response("early");
  });
  const client = await Client.connect(s.port);
  await client.send("POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n");
  assert.equal((await client.response()).body, "early");
  // Draining alongside the handler's read would split the body between the two; the server
  // closes instead, so what follows on this connection is never taken for a request.
  await client.send("hello" + GET("/next")).catch(() => {});
  const rest = await client.rest().catch(() => "");
  assert.ok(!rest.includes("next"), rest);
  await handlerRead;
  const after = parseResponses(await exchange(s.port, GET("/next", "Connection: close\r\n")));
  assert.equal(after[0].body, "next");
});

Deno.test("an unread body over maxDrainBytes closes the connection instead", async () => {
  await using s = startServer(() => new Response("ignored"), { limits: { maxDrainBytes: 4 } });
  const text = await exchange(
    s.port,
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789" + GET("/next"),
  );
  const responses = parseResponses(text);
  assert.equal(responses.length, 1);
  assert.equal(responses[0].headers.get("connection"), "close");
});

const limitCases: [string, string, number, Record<string, number>][] = [
  ["body over maxBodyBytes", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n", 413, {
    maxBodyBytes: 10,
  }],
  [
    "chunked body over maxBodyBytes",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n",
    413,
    {
      maxBodyBytes: 10,
    },
  ],
  ["URI over maxUriBytes", `GET /${"a".repeat(100)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414, {
    maxUriBytes: 64,
  }],
  ["request line never ends", `GET /${"a".repeat(300)}`, 414, { maxUriBytes: 64 }],
  [
    "header section over maxHeaderBytes",
    `GET / HTTP/1.1\r\nHost: t\r\nX: ${"v".repeat(200)}\r\n\r\n`,
    431,
    {
      maxHeaderBytes: 100,
    },
  ],
  ["head that never ends", `GET / HTTP/1.1\r\nHost: t\r\nX: ${"v".repeat(300)}`, 431, {
    maxHeaderBytes: 100,
  }],
  ["too many fields", `GET / HTTP/1.1\r\nHost: t\r\n${"X: 1\r\n".repeat(20)}\r\n`, 431, {
    maxHeaderCount: 10,
  }],
];
for (const [name, request, status, limits] of limitCases) {
  Deno.test(`limit: ${name} → ${status} and close`, async () => {
    const { handler } = recorder();
    await using s = startServer(handler, { limits });
    const responses = parseResponses(await exchange(s.port, request));
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, status, responses[0].body);
    assert.equal(responses[0].headers.get("connection"), "close");
  });
}

Deno.test("timeout: a head that does not arrive in time gets 408 and a close", async () => {
  await using s = startServer(() => new Response("never"), { limits: { headersTimeout: 100 } });
  const client = await Client.connect(s.port);
  await client.send("GET / HTTP/1.1\r\nHost: t\r\n");
  const text = await client.rest();
  const responses = parseResponses(text);
  assert.equal(responses[0].status, 408);
  client.close();
});

Deno.test("timeout: an idle keep-alive connection is closed quietly", async () => {
  await using s = startServer(() => new Response("ok"), { limits: { keepAliveTimeout: 100 } });
  const client = await Client.connect(s.port);
  await client.send(GET("/"));
  assert.equal((await client.response()).status, 200);
  assert.equal(await client.rest(), "");
  client.close();
});

Deno.test("timeout: a handler over requestTimeout gives 503", async () => {
  const never = deferred<Response>();
  await using s = startServer(() => never.promise, { limits: { requestTimeout: 100 } });
  const responses = parseResponses(await exchange(s.port, GET("/")));
  assert.equal(responses[0].status, 503);
  never.resolve(new Response("too late"));
});

Deno.test("maxConnections: a client over the limit waits in the backlog until room frees up", async () => {
  const { seen, handler } = recorder();
  await using s = startServer(handler, { limits: { maxConnections: 1 } });
  const a = await Client.connect(s.port);
  await a.send(GET("/a1"));
  await a.response();
  const b = await Client.connect(s.port); // accepted by the kernel, not by the server
  await b.send(GET("/b"));
  await a.send(GET("/a2"));
  await a.response();
  assert.deepEqual(seen, ["/a1", "/a2"], "b is not served while a holds the only slot");
  a.close();
  assert.equal((await b.response()).body, "GET /b");
  assert.deepEqual(seen, ["/a1", "/a2", "/b"]);
  b.close();
});

Deno.test("HEAD: the GET headers with no body; 204 and 304 carry no body", async () => {
  await using s = startServer((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304, headers: { etag: '"x"' } });
    return new Response("twelve bytes");
  });
  const client = await Client.connect(s.port);
  await client.send(
    `HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${GET("/204")}${GET("/304")}${
      GET("/", "Connection: close\r\n")
    }`,
  );
  const text = await client.rest();
  const [head, noContent, notModified, get] = parseResponses(text, [true]);
  assert.equal(head.headers.get("content-length"), "12");
  assert.equal(head.body, "");
  assert.equal(noContent.status, 204);
  assert.equal(noContent.headers.get("content-length"), undefined);
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.get("etag"), '"x"');
  assert.equal(get.body, "twelve bytes");
  client.close();
});

Deno.test("framing: known bodies get Content-Length, streams get chunked (1.1) or close (1.0)", async () => {
  await using s = startServer((req) => {
    if (new URL(req.url).pathname === "/known") return Response.json({ a: 1 });
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 1)); // a producer that is not ready at once
          if (n++ === 3) controller.close();
          else controller.enqueue(new TextEncoder().encode(`part${n};`));
        },
      }),
    );
  });
  const known = parseResponses(await exchange(s.port, GET("/known", "Connection: close\r\n")))[0];
  assert.equal(known.headers.get("content-length"), "7");
  assert.equal(known.body, '{"a":1}');
  const chunked =
    parseResponses(await exchange(s.port, GET("/stream", "Connection: close\r\n")))[0];
  assert.equal(chunked.headers.get("transfer-encoding"), "chunked");
  assert.equal(chunked.body, "part1;part2;part3;");
  const old = parseResponses(await exchange(s.port, "GET /stream HTTP/1.0\r\n\r\n"))[0];
  assert.equal(old.version, "HTTP/1.0");
  assert.equal(old.headers.get("transfer-encoding"), undefined);
  assert.equal(old.headers.get("connection"), "close");
  assert.equal(old.body, "part1;part2;part3;");
});

Deno.test("HTTP/1.0: closes by default, keeps alive when asked", async () => {
  await using s = startServer(() => new Response("ok"));
  const closed = parseResponses(await exchange(s.port, "GET / HTTP/1.0\r\n\r\n"));
  assert.equal(closed[0].headers.get("connection"), "close");
  const client = await Client.connect(s.port);
  await client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const kept = await client.response();
  assert.equal(kept.headers.get("connection"), "keep-alive");
  await client.send("GET / HTTP/1.0\r\n\r\n");
  assert.equal((await client.response()).body, "ok");
  client.close();
});

Deno.test("URLs: Host and target; absolute-form wins over Host; HTTP/1.0 uses the listener", async () => {
  await using s = startServer((req) => new Response(req.url));
  const text = await exchange(
    s.port,
    GET("/a?b=c") + "GET http://other.example/x HTTP/1.1\r\nHost: t\r\n\r\n" +
      "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
      "\r\n" + // an empty line before a request line is ignored (RFC 9112 §2.2)
      "GET /last HTTP/1.1\r\nHost: [::1]:9\r\nConnection: close\r\n\r\n",
  );
  assert.deepEqual(parseResponses(text).map((r) => r.body), [
    "http://t/a?b=c",
    "http://other.example/x",
    `http://127.0.0.1:${s.port}/old`,
    "http://[::1]:9/last",
  ]);
});

Deno.test("every response has a Date header, and handler headers pass through", async () => {
  await using s = startServer(() =>
    new Response("x", { headers: { "x-custom": "1", "set-cookie": "a=1" } })
  );
  const [res] = parseResponses(await exchange(s.port, GET("/", "Connection: close\r\n")));
  assert.match(res.headers.get("date")!, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(res.headers.get("x-custom"), "1");
  assert.equal(res.headers.get("set-cookie"), "a=1");
});

Deno.test("stats(): open connections, requests and bytes in/out", async () => {
  await using s = startServer(() => new Response("12345"));
  const request = GET("/");
  const client = await Client.connect(s.port);
  await client.send(request);
  const res = await client.response();
  const live = s.server.stats();
  assert.equal(live.connections, 1);
  assert.equal(live.requests, 1);
  assert.equal(live.bytesIn, request.length);
  const responseBytes = [...res.headers].reduce((n, [k, v]) => n + k.length + v.length + 4, 0) +
    `${res.version} ${res.status} ${res.reason}\r\n\r\n`.length + res.body.length;
  assert.equal(live.bytesOut, responseBytes);
  client.close();
  await s.server.shutdown();
  const after = s.server.stats();
  assert.deepEqual(after, {
    connections: 0,
    requests: 1,
    bytesIn: live.bytesIn,
    bytesOut: live.bytesOut,
    engineErrors: 0,
  });
});

Deno.test("HEAD: a bodiless answer announces the handler's length, or none — never a wrong 0", async () => {
  await using s = startServer((req) =>
    new URL(req.url).pathname === "/declared"
      ? new Response(null, { headers: { "content-length": "1234" } })
      : new Response(null, { headers: { "content-encoding": "gzip" } })
  );
  const text = await exchange(
    s.port,
    "HEAD /declared HTTP/1.1\r\nHost: t\r\n\r\nHEAD /unknown HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
  );
  const [declared, unknown] = parseResponses(text, [true, true]);
  assert.equal(declared.headers.get("content-length"), "1234");
  assert.equal(unknown.headers.get("content-length"), undefined);
  assert.equal(unknown.headers.get("transfer-encoding"), undefined);
});

Deno.test("timeout: writeTimeout counts while a write waits, not while a stream waits for its next chunk", async () => {
  const encoder = new TextEncoder();
  // The handler's stream pauses for five write timeouts between its chunks: the time passing is
  // what is tested, so it is a timer, not a wait for an event.
  const paused = () =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("before "));
          await new Promise((resolve) => setTimeout(resolve, 250));
          controller.enqueue(encoder.encode("after"));
          controller.close();
        },
      }),
    );
  await using s = startServer(paused, { limits: { writeTimeout: 50 } });
  const [response] = parseResponses(
    await exchange(s.port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    [false],
  );
  assert.equal(response.status, 200);
  assert.equal(response.body, "before after");
});

Deno.test("timeout: a client that stops reading is let go of after writeTimeout", async () => {
  const chunk = new Uint8Array(64 * 1024);
  const endless = () => new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }));
  await using s = startServer(endless, { limits: { writeTimeout: 200 } });
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await stuck.write(new TextEncoder().encode(GET("/endless")));
  // The server fills the socket buffers, then its write waits on this client, which never reads;
  // after 200 ms without progress the server closes the connection.
  await waitUntil(() => s.server.stats().connections === 0, "the stuck connection is closed");
  const received = await readToEnd(stuck);
  stuck.close();
  assert.ok(
    received.length > 0 && received.length < 1 << 30,
    `${received.length} bytes, then the end`,
  );
});
