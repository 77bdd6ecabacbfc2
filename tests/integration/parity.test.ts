/**
 * Parity with Deno.serve: one handler module (tests/fixtures/parity_handler.ts, which imports
 * nothing from sockserve) is served by `Deno.serve` and by `serve()` from mod.ts with the same
 * call, and every request of the table is sent to both over real sockets — with `fetch`, or as raw
 * bytes where fetch cannot say what we mean (a chunked body, HEAD framing, HTTP/1.0, odd targets).
 *
 * Compared: the status, the body bytes, and every header except those that describe the
 * connection or the moment rather than the resource (date, server, vary, connection, keep-alive,
 * transfer-encoding). Content-Length is compared whenever Deno.serve sends one: Deno.serve sends it
 * exactly when the body's size is known, and so must sockserve (issue #2: "Content-Length when the
 * body size is known"). Each case also checks both answers against what the request implies, so
 * two servers that agree on a wrong answer still fail.
 */
import assert from "node:assert/strict";
import { serve } from "../../mod.ts";
import { handler, openGate, pattern } from "../fixtures/parity_handler.ts";
import fc from "fast-check";
import { parseResponses, readToEnd, writeAll } from "../helpers.ts";
import {
  CRLF,
  deliver,
  everyByte,
  everySplit,
  getPiece,
  layout,
  MIXED_BATCH,
  postPiece,
  segmentedBatch,
} from "../segmented.ts";

/** Headers that vary with the connection, the clock or the server's identity. */
const IGNORED = new Set([
  "date",
  "server",
  "vary",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
]);

interface Outcome {
  status: number;
  /** Significant headers, sorted by name, with the server's own origin replaced by ORIGIN. */
  headers: [string, string][];
  contentLength: string | null;
  body: Uint8Array;
}

interface Pair {
  origin: string;
  port: number;
}

interface Servers extends AsyncDisposable {
  deno: Pair;
  sockserve: Pair;
}

/** The same call, once per implementation: switching is one import. */
function startBoth(): Servers {
  const denoServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const sockServer = serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const pair = (addr: Deno.Addr): Pair => {
    const port = (addr as Deno.NetAddr).port;
    return { port, origin: `http://127.0.0.1:${port}` };
  };
  return {
    deno: pair(denoServer.addr),
    sockserve: pair(sockServer.addr),
    async [Symbol.asyncDispose]() {
      await Promise.all([denoServer.shutdown(), sockServer.shutdown()]);
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One character per byte, so that the response parser's lengths count bytes. */
const latin1 = new TextDecoder("latin1");

function significant(entries: Iterable<[string, string]>, origin: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (!IGNORED.has(lower)) out.push([lower, value.replaceAll(origin, "ORIGIN")]);
  }
  // Stable sort by name keeps the order of repeated fields (two Set-Cookie lines).
  return out.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// fetch cases

interface FetchCase {
  name: string;
  path: string;
  init?: () => RequestInit;
  /** What the request implies, checked on both answers. */
  check: (outcome: Outcome, text: string) => void;
}

async function viaFetch(server: Pair, c: FetchCase, client: Deno.HttpClient): Promise<Outcome> {
  const response = await fetch(`${server.origin}${c.path}`, {
    redirect: "manual",
    ...c.init?.(),
    client,
  });
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: significant(response.headers, server.origin),
    contentLength: response.headers.get("content-length"),
    body,
  };
}

const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
const mebibyte = pattern(1024 * 1024);
const randomMebibyte = (() => {
  const bytes = new Uint8Array(1024 * 1024);
  for (let off = 0; off < bytes.length; off += 65536) {
    crypto.getRandomValues(bytes.subarray(off, off + 65536));
  }
  return bytes;
})();

const json = (text: string) => JSON.parse(text);

const fetchCases: FetchCase[] = [
  {
    name: "GET text",
    path: "/text",
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(text, "Hello from the parity handler!\n");
      assert.equal(o.contentLength, String(o.body.length));
    },
  },
  {
    name: "GET JSON (Response.json)",
    path: "/json",
    check(o, text) {
      assert.equal(o.status, 200);
      assert.deepEqual(json(text), {
        ok: true,
        list: [1, 2, 3],
        nested: { name: "sockserve", n: null },
      });
      assert.deepEqual(o.headers.find(([n]) => n === "content-type"), [
        "content-type",
        "application/json",
      ]);
    },
  },
  {
    name: "HEAD of a text route: no body, the GET's headers",
    path: "/text",
    init: () => ({ method: "HEAD" }),
    check(o) {
      assert.equal(o.status, 200);
      assert.equal(o.body.length, 0);
      assert.equal(
        o.contentLength,
        String(encoder.encode("Hello from the parity handler!\n").length),
      );
    },
  },
  {
    name: "POST echo with Content-Length",
    path: "/echo",
    init: () => ({
      method: "POST",
      body: "name=sockserve&kind=server",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(text, "name=sockserve&kind=server");
      assert.ok(o.headers.some(([n, v]) => n === "x-received-bytes" && v === "26"));
    },
  },
  {
    name: "POST echo with a ReadableStream body (fetch sends it chunked)",
    path: "/echo",
    init: () => ({
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: ReadableStream.from(["streamed ", "request ", "body"]).pipeThrough(
        new TextEncoderStream(),
      ),
    }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(text, "streamed request body");
    },
  },
  {
    name: "streaming ReadableStream response",
    path: "/stream?n=6",
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(
        text,
        Array.from({ length: 6 }, (_, i) => `chunk ${i + 1} of 6\n`).join(""),
      );
      assert.ok(o.headers.some(([n, v]) => n === "x-stream" && v === "yes"));
    },
  },
  {
    name: "404 for an unknown path",
    path: "/no/such/thing",
    check(o, text) {
      assert.equal(o.status, 404);
      assert.equal(text, "no route for GET /no/such/thing\n");
    },
  },
  {
    name: "POST → 201 with Location",
    path: "/created",
    init: () => ({ method: "POST", body: "{}" }),
    check(o, text) {
      assert.equal(o.status, 201);
      assert.deepEqual(json(text), { id: 42 });
      assert.ok(o.headers.some(([n, v]) => n === "location" && v === "/items/42"));
    },
  },
  {
    name: "204 No Content: no body, headers kept",
    path: "/no-content",
    check(o) {
      assert.equal(o.status, 204);
      assert.equal(o.body.length, 0);
      assert.ok(o.headers.some(([n, v]) => n === "x-done" && v === "1"));
    },
  },
  {
    name: "Response.redirect: 302 with an absolute Location built from request.url",
    path: "/redirect",
    check(o) {
      assert.equal(o.status, 302);
      assert.ok(o.headers.some(([n, v]) => n === "location" && v === "ORIGIN/text"));
    },
  },
  {
    name: "two Set-Cookie fields and a repeated custom header",
    path: "/cookies",
    check(o) {
      assert.equal(o.status, 200);
      assert.deepEqual(o.headers.filter(([n]) => n === "set-cookie"), [
        ["set-cookie", "a=1; Path=/; HttpOnly"],
        ["set-cookie", "b=2; Path=/; Max-Age=60"],
      ]);
      assert.ok(o.headers.some(([n, v]) => n === "x-multi" && v === "one, two"));
      assert.ok(o.headers.some(([n, v]) => n === "cache-control" && v === "no-store"));
    },
  },
  {
    name: "query parameters read from request.url",
    path: "/query?tag=a&tag=b%20c&q=x%2By&empty=&flag",
    check(o, text) {
      assert.equal(o.status, 200);
      const search = "?tag=a&tag=b%20c&q=x%2By&empty=&flag";
      assert.deepEqual(json(text), {
        search,
        params: [...new URLSearchParams(search)],
        all: ["a", "b c"],
      });
    },
  },
  {
    name: "request headers echoed back",
    path: "/headers",
    init: () => ({
      headers: {
        "x-trace-id": "abc-123",
        "X-Mixed-Case": "Value With Spaces",
        "user-agent": "parity-test/1.0",
      },
    }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.deepEqual(json(text), {
        x: [["x-mixed-case", "Value With Spaces"], ["x-trace-id", "abc-123"]],
        userAgent: "parity-test/1.0",
      });
    },
  },
  {
    name: "binary body round trip (bytes 0–255)",
    path: "/echo",
    init: () => ({
      method: "POST",
      body: binary,
      headers: { "content-type": "application/octet-stream" },
    }),
    check(o) {
      assert.equal(o.status, 200);
      assert.deepEqual(o.body, binary);
      assert.equal(o.contentLength, "256");
    },
  },
  {
    name: "binary response (bytes 0–255)",
    path: "/binary",
    check(o) {
      assert.equal(o.status, 200);
      assert.deepEqual(o.body, binary);
    },
  },
  {
    name: "large (1 MiB) response of known size",
    path: "/large",
    check(o) {
      assert.equal(o.status, 200);
      assert.ok(o.body.length === mebibyte.length && o.body.every((b, i) => b === mebibyte[i]));
      assert.equal(o.contentLength, String(mebibyte.length));
    },
  },
  {
    name: "large (1 MiB) random request body echoed",
    path: "/echo",
    init: () => ({ method: "POST", body: randomMebibyte }),
    check(o) {
      assert.equal(o.status, 200);
      assert.ok(
        o.body.length === randomMebibyte.length &&
          o.body.every((b, i) => b === randomMebibyte[i]),
      );
    },
  },
  {
    name: "PUT with a body",
    path: "/method",
    init: () => ({ method: "PUT", body: "new contents" }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(text, 'PUT "new contents"\n');
    },
  },
  {
    name: "DELETE without a body",
    path: "/method",
    init: () => ({ method: "DELETE" }),
    check(o, text) {
      assert.equal(o.status, 202);
      assert.equal(text, 'DELETE ""\n');
    },
  },
  {
    name: "PATCH with a body",
    path: "/method",
    init: () => ({ method: "PATCH", body: '{"op":"replace"}' }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.equal(text, 'PATCH "{\\"op\\":\\"replace\\"}"\n');
    },
  },
  {
    name: "405 with Allow",
    path: "/text",
    init: () => ({ method: "POST", body: "x" }),
    check(o) {
      assert.equal(o.status, 405);
      assert.ok(o.headers.some(([n, v]) => n === "allow" && v === "GET, HEAD"));
    },
  },
  {
    name: "percent-encoded path and query",
    path: "/files/caf%C3%A9%20menu/%E2%9C%93.txt?q=%E2%9C%93&q=a+b&sp=%20",
    check(o, text) {
      assert.equal(o.status, 200);
      assert.deepEqual(json(text), {
        pathname: "/files/caf%C3%A9%20menu/%E2%9C%93.txt",
        decoded: "/files/café menu/✓.txt",
        search: "?q=%E2%9C%93&q=a+b&sp=%20",
        params: [["q", "✓"], ["q", "a b"], ["sp", " "]],
      });
    },
  },
  {
    name: "handler reads await req.json()",
    path: "/json-echo",
    init: () => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ numbers: [1, 2, 3, 4.5], label: "ünïcödé ✓" }),
    }),
    check(o, text) {
      assert.equal(o.status, 200);
      assert.deepEqual(json(text), {
        received: { numbers: [1, 2, 3, 4.5], label: "ünïcödé ✓" },
        sum: 10.5,
      });
    },
  },
  {
    name: "req.json() on invalid JSON → the handler's 400",
    path: "/json-echo",
    init: () => ({ method: "POST", body: "{not json" }),
    check(o, text) {
      assert.equal(o.status, 400);
      assert.deepEqual(json(text), { error: "SyntaxError" });
    },
  },
  {
    name: "info.remoteAddr is the peer",
    path: "/remote",
    check(o, text) {
      assert.equal(o.status, 200);
      assert.deepEqual(json(text), { transport: "tcp", hostname: "127.0.0.1" });
    },
  },
];

for (const c of fetchCases) {
  Deno.test(`parity (fetch): ${c.name}`, async () => {
    await using servers = startBoth();
    using client = Deno.createHttpClient({});
    const deno = await viaFetch(servers.deno, c, client);
    const sock = await viaFetch(servers.sockserve, c, client);
    compare(deno, sock);
    c.check(deno, decoder.decode(deno.body));
    c.check(sock, decoder.decode(sock.body));
  });
}

function compare(deno: Outcome, sock: Outcome): void {
  assert.equal(sock.status, deno.status, "status");
  assert.deepEqual(sock.headers, deno.headers, "significant headers");
  if (deno.contentLength !== null) {
    assert.equal(sock.contentLength, deno.contentLength, "content-length");
  }
  assert.equal(sock.body.length, deno.body.length, "body length");
  assert.ok(sock.body.every((b, i) => b === deno.body[i]), "body bytes");
}

// ---------------------------------------------------------------------------------------------
// raw cases: bytes fetch cannot send, or framing fetch hides

interface RawCase {
  name: string;
  request: string;
  /** Which of the responses answer HEAD requests (no body on the wire). */
  heads?: boolean[];
  /** What the request implies, checked on both servers' parsed responses. */
  check: (responses: Outcome[]) => void;
}

/** Writes `request`, reads until the server closes, parses every response on the wire. */
async function viaRaw(server: Pair, c: RawCase): Promise<Outcome[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  let bytes: Uint8Array;
  try {
    await writeAll(conn, encoder.encode(c.request));
    bytes = await readToEnd(conn); // returns only once the server has closed
  } finally {
    conn.close();
  }
  // parseResponses throws on stray bytes: a HEAD answer with a body would show up here.
  return parseResponses(latin1.decode(bytes), c.heads).map((r) => ({
    status: r.status,
    headers: significant(r.headers, server.origin),
    contentLength: r.headers.get("content-length") ?? null,
    body: Uint8Array.from(r.body, (ch) => ch.charCodeAt(0)),
  }));
}

const HELLO = "Hello from the parity handler!\n";

const rawCases: RawCase[] = [
  {
    name: "POST echo with Transfer-Encoding: chunked (extensions, uneven chunks)",
    request: "POST /echo HTTP/1.1\r\nHost: parity.test\r\nTransfer-Encoding: chunked\r\n" +
      "Content-Type: text/plain\r\nConnection: close\r\n\r\n" +
      "5\r\nhello\r\n1;ext=1\r\n,\r\nA\r\n chunked w\r\n4\r\norld\r\n0\r\n\r\n",
    check([r]) {
      assert.equal(r.status, 200);
      assert.equal(decoder.decode(r.body), "hello, chunked world");
      assert.equal(r.contentLength, "20");
    },
  },
  {
    name: "HEAD then GET pipelined: HEAD has the GET's Content-Length and no body",
    request: "HEAD /text HTTP/1.1\r\nHost: parity.test\r\n\r\n" +
      "GET /text HTTP/1.1\r\nHost: parity.test\r\nConnection: close\r\n\r\n",
    heads: [true, false],
    check(rs) {
      assert.equal(rs.length, 2);
      const [head, get] = rs;
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.contentLength, String(HELLO.length));
      assert.deepEqual(head.headers, get.headers);
      assert.equal(decoder.decode(get.body), HELLO);
    },
  },
  {
    name: "HEAD of a 1 MiB body: the GET's Content-Length, no body",
    request: "HEAD /large HTTP/1.1\r\nHost: parity.test\r\n\r\n" +
      "GET /text HTTP/1.1\r\nHost: parity.test\r\nConnection: close\r\n\r\n",
    heads: [true, false],
    check(rs) {
      assert.equal(rs.length, 2);
      assert.equal(rs[0].status, 200);
      assert.equal(rs[0].contentLength, String(1024 * 1024));
      assert.equal(decoder.decode(rs[1].body), HELLO);
    },
  },
  {
    name: "HEAD of a streaming route: no body, and the connection stays in sync",
    request: "HEAD /stream?n=3 HTTP/1.1\r\nHost: parity.test\r\n\r\n" +
      "GET /text HTTP/1.1\r\nHost: parity.test\r\nConnection: close\r\n\r\n",
    heads: [true, false],
    check(rs) {
      assert.equal(rs.length, 2);
      assert.equal(rs[0].status, 200);
      assert.equal(rs[0].body.length, 0);
      assert.equal(decoder.decode(rs[1].body), HELLO);
    },
  },
  {
    name: "HTTP/1.0 streaming response: close-delimited body, then the server closes",
    request: "GET /stream?n=3 HTTP/1.0\r\nHost: parity.test\r\n\r\n",
    check([r]) {
      assert.equal(r.status, 200);
      assert.equal(decoder.decode(r.body), "chunk 1 of 3\nchunk 2 of 3\nchunk 3 of 3\n");
    },
  },
  {
    name: "repeated request header fields are combined in order",
    request: "GET /headers HTTP/1.1\r\nHost: parity.test\r\nX-Dup: first\r\n" +
      "X-Other:   padded value  \r\nX-Dup: second\r\nConnection: close\r\n\r\n",
    check([r]) {
      assert.deepEqual(json(decoder.decode(r.body)), {
        x: [["x-dup", "first, second"], ["x-other", "padded value"]],
        userAgent: null,
      });
    },
  },
  {
    name: "dot segments and percent-encoding in the raw target",
    request: "GET /files/a/./b/../c%7e%2F?x=%41&y HTTP/1.1\r\nHost: parity.test\r\n" +
      "Connection: close\r\n\r\n",
    check([r]) {
      const url = new URL("http://parity.test/files/a/./b/../c%7e%2F?x=%41&y");
      assert.deepEqual(json(decoder.decode(r.body)), {
        pathname: url.pathname,
        decoded: decodeURIComponent(url.pathname),
        search: url.search,
        params: [...url.searchParams],
      });
    },
  },
  {
    name: "absolute-form target: the URL comes from the target, not Host",
    request: "GET http://elsewhere.test/query?z=1 HTTP/1.1\r\nHost: parity.test\r\n" +
      "Connection: close\r\n\r\n",
    check([r]) {
      assert.equal(r.status, 200);
      assert.deepEqual(json(decoder.decode(r.body)), {
        search: "?z=1",
        params: [["z", "1"]],
        all: [],
      });
    },
  },
  {
    name: "GET with a Content-Length body: the handler sees no body, the connection stays in sync",
    request: "GET /echo HTTP/1.1\r\nHost: parity.test\r\nContent-Length: 5\r\n\r\nhello" +
      "GET /text HTTP/1.1\r\nHost: parity.test\r\nConnection: close\r\n\r\n",
    check(rs) {
      assert.equal(rs.length, 2);
      assert.equal(rs[0].body.length, 0);
      assert.equal(decoder.decode(rs[1].body), HELLO);
    },
  },
];

for (const c of rawCases) {
  Deno.test(`parity (raw): ${c.name}`, async () => {
    await using servers = startBoth();
    const deno = await viaRaw(servers.deno, c);
    const sock = await viaRaw(servers.sockserve, c);
    assert.equal(sock.length, deno.length, "number of responses");
    for (let i = 0; i < deno.length; i++) compare(deno[i], sock[i]);
    c.check(deno);
    c.check(sock);
  });
}

// ---------------------------------------------------------------------------------------------
// cases that need more than one request/response

Deno.test("parity (raw): a streamed response reaches the client before the stream ends", async () => {
  await using servers = startBoth();
  for (const [name, server] of Object.entries(servers)) {
    const id = `${name}-${crypto.randomUUID()}`;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    try {
      await writeAll(
        conn,
        encoder.encode(
          `GET /gated-stream?id=${id} HTTP/1.1\r\nHost: parity.test\r\nConnection: close\r\n\r\n`,
        ),
      );
      // Read until the first chunk is here; the second cannot exist until the gate opens.
      let seen = "";
      const buf = new Uint8Array(4096);
      while (!seen.includes("first|")) {
        const n = await conn.read(buf);
        assert.notEqual(n, null, `${name}: closed before the first chunk`);
        seen += latin1.decode(buf.subarray(0, n!));
      }
      assert.ok(!seen.includes("second|"), name);
      openGate(id);
      seen += latin1.decode(await readToEnd(conn));
      const [r] = parseResponses(seen);
      assert.equal(r.status, 200, name);
      assert.equal(r.body, "first|second|", name);
      assert.equal(r.headers.get("content-type"), "text/plain", name);
    } finally {
      conn.close();
    }
  }
});

Deno.test("parity (fetch): a handler that throws gives the same 500 under both", async () => {
  await using servers = startBoth();
  using client = Deno.createHttpClient({});
  // Both servers log the error (Deno.serve through its internal console, so it shows here).
  const c: FetchCase = { name: "throws", path: "/throws", check() {} };
  const deno = await viaFetch(servers.deno, c, client);
  const sock = await viaFetch(servers.sockserve, c, client);
  assert.equal(deno.status, 500);
  compare(deno, sock);
  // And the next request on the same servers still succeeds.
  for (const server of [servers.deno, servers.sockserve]) {
    const again = await fetch(`${server.origin}/text`, { client });
    assert.equal(await again.text(), HELLO);
  }
});

// ---------------------------------------------------------------------------------------------
// pipelined batches cut into pieces: every answer that is ready leaves before the server waits

/**
 * The servers the cut batches are compared under. Deno.serve on Deno 2.8 answers some of these
 * cuts (a POST whose pieces arrive in separate reads) with `Connection: close` and drops the rest
 * of the batch; from 2.9 on it keeps the connection, so there it is the reference, and sockserve
 * is held to the same answers on every version.
 */
function cutBatchServers(servers: Servers) {
  const denoServeHolds = !Deno.version.deno.startsWith("2.8.");
  return denoServeHolds ? [servers.deno, servers.sockserve] : [servers.sockserve];
}

Deno.test("parity (raw): a pipelined batch cut in two at every offset is answered piece by piece", async () => {
  await using servers = startBoth();
  for (const server of cutBatchServers(servers)) {
    for (const cuts of everySplit(layout(MIXED_BATCH).bytes)) {
      await deliver(server.port, MIXED_BATCH, cuts);
    }
  }
});

Deno.test("parity (raw): a pipelined batch sent one byte at a time is answered request by request", async () => {
  await using servers = startBoth();
  for (const server of cutBatchServers(servers)) {
    await deliver(server.port, MIXED_BATCH, everyByte(layout(MIXED_BATCH).bytes));
  }
});

Deno.test("parity (raw): random pipelined batches cut at random offsets", async () => {
  await using servers = startBoth();
  await fc.assert(
    fc.asyncProperty(segmentedBatch, async ({ pieces, cuts }) => {
      for (const server of cutBatchServers(servers)) await deliver(server.port, pieces, cuts);
    }),
    { numRuns: 30 },
  );
});

Deno.test("parity (raw): an empty line after a GET and after a POST body is ignored", async () => {
  await using servers = startBoth();
  for (const server of [servers.deno, servers.sockserve]) {
    await deliver(server.port, [getPiece(7), CRLF], []);
    await deliver(server.port, [postPiece("body"), CRLF], []);
    await deliver(server.port, [postPiece("body"), CRLF, getPiece(8)], []);
  }
});
