/**
 * The dev server's proxy (`--proxy PREFIX=URL`) against a real backend process
 * (tests/fixtures/proxy_backend.ts) over real sockets: what crosses in each direction, streaming
 * both ways, keep-alive reuse, and the failures: backend down (502), slow (504), dying mid-body
 * (the client's connection is cut).
 */
import assert from "node:assert/strict";
import { Client, parseResponses } from "../helpers.ts";
import { RawClient, startBackend, startDev } from "../dev_helpers.ts";

const route = (port: number, target = "") => [{
  prefix: "/api",
  target: `http://127.0.0.1:${port}${target}`,
}];

Deno.test("proxy: the request reaches the backend with its body, hop-by-hop fields gone and X-Forwarded-* added", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  const client = await Client.connect(dev.port);
  try {
    await client.send(
      "POST /api/echo?x=1 HTTP/1.1\r\nHost: site.test:8000\r\nConnection: keep-alive, X-Drop\r\n" +
        "X-Drop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\n" +
        "X-Forwarded-For: 203.0.113.9\r\nX-Keep: yes\r\nContent-Length: 5\r\n\r\nhello",
    );
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-backend"), "yes");
    const seen = JSON.parse(response.body);
    assert.equal(seen.method, "POST");
    assert.equal(seen.target, "/api/echo?x=1");
    assert.equal(seen.body, "hello");
    const fields = new Map<string, string>(seen.fields);
    assert.equal(fields.get("host"), `127.0.0.1:${backend.port}`);
    assert.equal(fields.get("x-keep"), "yes");
    assert.equal(fields.get("content-length"), "5");
    assert.equal(fields.get("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
    assert.equal(fields.get("x-forwarded-proto"), "http");
    assert.equal(fields.get("x-forwarded-host"), "site.test:8000");
    for (const gone of ["connection", "x-drop", "keep-alive", "te", "proxy-authorization"]) {
      assert.ok(!fields.has(gone), `${gone} was forwarded`);
    }
    // The same client connection goes on: the proxy answered with a whole, framed response.
    await client.send("GET /api/echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(JSON.parse((await client.response()).body).method, "GET");
  } finally {
    client.close();
  }
});

Deno.test("proxy: a chunked request body is forwarded chunked; HEAD gets the head alone", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  const client = await Client.connect(dev.port);
  try {
    await client.send(
      "PUT /api/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    const seen = JSON.parse((await client.response()).body);
    assert.equal(seen.body, "abcde");
    assert.equal(new Map<string, string>(seen.fields).get("transfer-encoding"), "chunked");
    await client.send("HEAD /api/echo HTTP/1.1\r\nHost: a\r\n\r\n");
    const head = await client.response(true);
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get("content-length")) > 0);
    assert.equal(head.body, "");
  } finally {
    client.close();
  }
});

Deno.test("proxy: hop-by-hop fields of the response stay behind, the others come through", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  const text = await rawExchange(
    dev.port,
    "GET /api/hop HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const [response] = parseResponses(text);
  assert.equal(response.body, "hop");
  assert.equal(response.headers.get("x-end"), "kept");
  for (const gone of ["x-secret", "keep-alive", "proxy-authenticate", "trailer", "upgrade"]) {
    assert.ok(!response.headers.has(gone), `${gone} came through`);
  }
  // The only Connection field is the server's own.
  assert.equal(response.headers.get("connection"), "close");
});

Deno.test("proxy: the response body streams: its first part arrives before the backend has the rest", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  using client = await RawClient.connect(dev.port);
  await client.send("GET /api/stream HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => t.includes("first"), "the first part");
  assert.ok(!client.text.includes("second"));
  // Only now does the backend send the rest.
  const go = await fetch(`${backend.origin}/go`);
  assert.equal(await go.text(), "went");
  const text = await client.until((t) => t.endsWith("0\r\n\r\n"), "the end of the body");
  assert.equal(parseResponses(text)[0].body, "firstsecond");
});

Deno.test("proxy: the request body streams: the backend answers its first piece before the rest is sent", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  using client = await RawClient.connect(dev.port);
  await client.send(
    "POST /api/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n",
  );
  await client.until((t) => t.includes("got:one"), "the echo of the first piece");
  await client.send("3\r\ntwo\r\n0\r\n\r\n");
  const text = await client.until((t) => t.endsWith("0\r\n\r\n"), "the end of the echo");
  assert.equal(parseResponses(text)[0].body, "got:onegot:two");
});

Deno.test("proxy: kept-alive backend connections are reused, and not after Connection: close", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port) });
  const get = async (path: string) => {
    const text = await rawExchange(
      dev.port,
      `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    return parseResponses(text)[0].body;
  };
  const first = await get("/api/conn");
  assert.equal(await get("/api/conn"), first, "a second client connection, the same backend one");
  assert.equal(await get("/api/close"), "closing");
  assert.notEqual(await get("/api/conn"), first);
});

Deno.test("proxy: a target with a path replaces the prefix; paths outside the prefix are files", async () => {
  await using backend = await startBackend();
  await using dev = await startDev(
    { proxy: [{ prefix: "/api", target: `http://127.0.0.1:${backend.port}/echo-base` }] },
    { "apis.txt": "a file" },
  );
  const text = await rawExchange(
    dev.port,
    "GET /api/x/y?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.equal(JSON.parse(parseResponses(text)[0].body).target, "/echo-base/x/y?q=1");
  const file = await rawExchange(
    dev.port,
    "GET /apis.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.equal(parseResponses(file)[0].body, "a file");
});

Deno.test("proxy: a backend that is down answers 502 saying which and why", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await using dev = await startDev({ proxy: route(port) });
  const text = await rawExchange(
    dev.port,
    "GET /api/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const [response] = parseResponses(text);
  assert.equal(response.status, 502);
  assert.match(
    response.body,
    new RegExp(`http://127\\.0\\.0\\.1:${port} for GET /api/x: cannot connect`),
  );
});

Deno.test("proxy: a backend that sends no response head in time answers 504", async () => {
  await using backend = await startBackend();
  await using dev = await startDev({ proxy: route(backend.port), proxyTimeout: 300 });
  const text = await rawExchange(
    dev.port,
    "GET /api/slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const [response] = parseResponses(text);
  assert.equal(response.status, 504);
  assert.match(response.body, /no response from .* within 300 ms/);
});

for (const [path, framing] of [["/api/die", "Content-Length"], ["/api/die-chunked", "chunked"]]) {
  Deno.test(`proxy: a backend dying mid-body (${framing}) cuts the client's connection`, async () => {
    await using backend = await startBackend();
    await using dev = await startDev({ proxy: route(backend.port) });
    using client = await RawClient.connect(dev.port);
    await client.send(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
    // The first part of the body reaches the client; only then does the backend die.
    const part = framing === "chunked" ? "partial" : "0123456789";
    await client.until((t) => t.includes(part), "the first part of the body");
    await fetch(`${backend.origin}/go`).then((response) => response.text()).catch(() => {});
    const text = await client.toEnd("the cut response");
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    if (framing === "chunked") {
      assert.match(text, /transfer-encoding: chunked/i);
      assert.ok(!body.endsWith("0\r\n\r\n"), "the body must not be terminated as complete");
    } else {
      assert.match(text, /content-length: 100\r\n/i);
      assert.equal(body, "0123456789", "fewer bytes than announced, then the close");
    }
    assert.ok(client.closed);
    await backend.child.status;
  });
}

/** Sends one request and reads until the server closes. */
async function rawExchange(port: number, request: string): Promise<string> {
  using client = await RawClient.connect(port);
  await client.send(request);
  return await client.toEnd(request.slice(0, request.indexOf("\r\n")));
}
