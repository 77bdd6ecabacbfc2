/**
 * Direct answers (src/direct.ts): which targets may skip the `Request`, and proof that the direct
 * path and the `Request` path give the same bytes — the file server over both, request by request.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fileServer } from "../../mod.ts";
import { type Answer, directOf, plainTarget, withDirect } from "../../src/handler/direct.ts";
import { FieldList } from "../../src/http1/field_list.ts";
import { encodeFields, encodeHead } from "../../src/http1/encode.ts";
import { HttpError } from "../../src/errors.ts";
import { formatCombined, withAccessLog } from "../../src/cli/access_log.ts";
import type { ServeHandler } from "../../src/options.ts";
import { Client, exchange, parseResponses, startServer } from "../helpers.ts";
import { site, text } from "../static_fixture.ts";

Deno.test("plainTarget: targets the URL parser keeps as they are, and the ones it would change", () => {
  const table: [string, { pathname: string; search: string } | null][] = [
    ["/", { pathname: "/", search: "" }],
    ["/a.txt", { pathname: "/a.txt", search: "" }],
    ["/a/b/c.tar.gz", { pathname: "/a/b/c.tar.gz", search: "" }],
    ["/%61%20b", { pathname: "/%61%20b", search: "" }],
    ["/a?x=1&y=2", { pathname: "/a", search: "?x=1&y=2" }],
    ["/a?", { pathname: "/a", search: "" }],
    ["/a?b?c", { pathname: "/a", search: "?b?c" }],
    ["/a//b", { pathname: "/a//b", search: "" }],
    ["/it's", { pathname: "/it's", search: "" }],
    // dot segments, in any spelling: the URL parser resolves them
    ["/a/../b", null],
    ["/a/./b", null],
    ["/.", null],
    ["/.hidden", null],
    ["/a/%2e%2e/b", null],
    ["/a/%2E./b", null],
    // characters the URL parser rewrites or cuts
    ["/a\\b", null],
    ["/a#frag", null],
    ["/a?q#frag", null],
    ["/a?it's", null],
    ["/a b", null],
    ["/a^b", null],
    ["/{x}", null],
    ["/a|b", null],
    ['/a"b', null],
    ["/a<b>", null],
    ["/caf\u00e9", null],
    // not origin-form
    ["*", null],
    ["http://example.com/a", null],
  ];
  for (const [target, expected] of table) assert.deepEqual(plainTarget(target), expected, target);
});

Deno.test("plainTarget agrees with the URL parser on every target it accepts (property)", () => {
  const char = fc.constantFrom(..."/.%2eE?#\\'\"a-~_:@!$&()*+,;=^{}| ".split(""));
  fc.assert(
    fc.property(fc.array(char, { maxLength: 12 }), (chars) => {
      const target = `/${chars.join("")}`;
      const plain = plainTarget(target);
      if (plain === null) return;
      const url = new URL(`http://localhost${target}`);
      assert.equal(plain.pathname, url.pathname, target);
      assert.equal(plain.search, url.search, target);
    }),
    { seed: 0x50c5e7, numRuns: 2000 },
  );
});

Deno.test("FieldList: set replaces case-insensitively, keeps order, names lower-cased", () => {
  const fields = new FieldList({ "Content-Type": "text/plain", vary: "Accept" });
  fields.set("VARY", "Accept-Encoding");
  fields.set("ETag", '"1"');
  assert.deepEqual([...fields], [
    ["content-type", "text/plain"],
    ["vary", "Accept-Encoding"],
    ["etag", '"1"'],
  ]);
  assert.equal(fields.get("Etag"), '"1"');
  assert.equal(fields.get("missing"), null);
});

Deno.test("FieldList: encoded once, again after any set; a frozen list refuses set", () => {
  const head = (fields: FieldList) =>
    encodeHead(1, 200, "", encodeFields(fields), { kind: "none" }, false);
  const fields = new FieldList({ "content-type": "text/plain" });
  assert.match(head(fields), /\r\ncontent-type: text\/plain\r\n/);
  assert.notEqual(fields.encoded, null, "the encoded lines are kept on the list");
  fields.set("etag", '"2"');
  assert.match(head(fields), /\r\ncontent-type: text\/plain\r\netag: "2"\r\n/);
  fields.set("etag", '"3"');
  assert.match(head(fields), /\r\netag: "3"\r\n/);
  assert.doesNotMatch(head(fields), /"2"/);

  fields.freeze();
  assert.throws(() => fields.set("etag", '"4"'), TypeError);
  assert.equal(fields.get("etag"), '"3"');
  assert.match(head(fields), /\r\netag: "3"\r\n/);

  // A field that could split the response is refused every time, not remembered as encoded.
  const unsafe = new FieldList({ "x-note": "a\r\nb" });
  for (let i = 0; i < 2; i++) assert.throws(() => head(unsafe), HttpError);
});

/** Status, header fields (but Date) and body, with a multipart boundary made constant. */
function comparable(raw: string, head: boolean): string {
  const [response] = parseResponses(raw, [head]);
  const boundary = /boundary=([0-9a-f]+)/.exec(response.headers.get("content-type") ?? "")?.[1];
  const fields = [...response.headers].filter(([name]) => name !== "date").sort();
  const shown = JSON.stringify([response.status, fields, response.body]);
  return boundary ? shown.replaceAll(boundary, "BOUNDARY") : shown;
}

Deno.test("the file server answers the same bytes through the direct path and a Request", async () => {
  await using s = await site({
    files: {
      "a.txt": "hello",
      "big.txt": text(4096),
      "dir/x.txt": "x",
      "404.html": "<p>missing</p>",
      ".secret": "no",
    },
  });
  const files = fileServer(s.root);
  const direct = directOf(files);
  assert.ok(direct, "fileServer has a direct entry point");
  let directCalls = 0;
  // Counts the direct path; the other server hides it behind a plain wrapper, so every request
  // there takes the Request path.
  await using spied = startServer(withDirect((request: Request) => files(request), (view, info) => {
    directCalls++;
    return direct(view, info);
  }));
  await using plain = startServer((request: Request) => files(request));

  const future = new Date(Date.now() + 86_400_000).toUTCString();
  // [request line, extra header lines, whether the direct path answers it]
  const table: [string, string, boolean][] = [
    ["GET /a.txt HTTP/1.1", "", true],
    ["HEAD /a.txt HTTP/1.1", "", true],
    ["GET /a.txt?x=1 HTTP/1.1", "", true],
    ["GET /%61.txt HTTP/1.1", "", true],
    ["GET /a.txt HTTP/1.1", "If-None-Match: *\r\n", true],
    ["GET /a.txt HTTP/1.1", `If-Modified-Since: ${future}\r\n`, true],
    ["GET /a.txt HTTP/1.1", 'If-Match: "nope"\r\n', true],
    ["GET /big.txt HTTP/1.1", "Range: bytes=0-9\r\n", true],
    ["GET /big.txt HTTP/1.1", "Range: bytes=0-1,100-110\r\n", true],
    ["GET /big.txt HTTP/1.1", "Range: bytes=9999-\r\n", true],
    ["GET /big.txt HTTP/1.1", "Accept-Encoding: gzip\r\n", true],
    ["HEAD /big.txt HTTP/1.1", "Accept-Encoding: gzip\r\n", true],
    ["GET /dir HTTP/1.1", "", true],
    ["GET /dir?x=1 HTTP/1.1", "", true],
    ["GET /dir/ HTTP/1.1", "", true],
    ["GET /dir/ HTTP/1.1", "Accept: application/json\r\n", true],
    ["GET /missing HTTP/1.1", "", true],
    ["GET /a.txt/ HTTP/1.1", "", true],
    ["GET /a%00 HTTP/1.1", "", true],
    ["GET /a%2f..%2f.secret HTTP/1.1", "", true],
    ["GET /.secret HTTP/1.1", "", false],
    ["GET /dir/../a.txt HTTP/1.1", "", false],
    ["GET /a%2Etxt HTTP/1.1", "", false],
    ["GET http://localhost/a.txt HTTP/1.1", "", false],
    ["POST /a.txt HTTP/1.1", "Content-Length: 0\r\n", false],
    ["OPTIONS * HTTP/1.1", "", false],
  ];
  let expectedCalls = 0;
  for (const [line, extra, takesDirect] of table) {
    const request = `${line}\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;
    const before = directCalls;
    const viaDirect = await exchange(spied.port, request);
    const viaRequest = await exchange(plain.port, request);
    const head = line.startsWith("HEAD");
    assert.equal(comparable(viaDirect, head), comparable(viaRequest, head), `${line} ${extra}`);
    assert.equal(directCalls - before, takesDirect ? 1 : 0, `direct path for ${line} ${extra}`);
    if (takesDirect) expectedCalls++;
  }
  assert.equal(directCalls, expectedCalls);
});

Deno.test("the direct path refuses the Hosts a Request refuses, with the same status", async () => {
  await using s = await site({ files: { "a.txt": "hello" } });
  const files = fileServer(s.root);
  await using plain = startServer((request: Request) => files(request));
  // [Host value, status]
  const table: [string, number][] = [
    ["localhost", 200],
    ["127.0.0.1:8080", 200],
    ["[::1]:80", 200],
    ["", 200],
    ["a b", 400],
    ["%", 400],
    ["localhost:99999", 400],
    ["1.2.3.999", 400],
    ["[::zz]", 400],
    ["a/b", 400],
  ];
  for (const [host, status] of table) {
    const request = `GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    const [direct] = parseResponses(await exchange(s.port, request));
    const [viaRequest] = parseResponses(await exchange(plain.port, request));
    assert.equal(direct.status, status, `Host: ${host}`);
    assert.equal(viaRequest.status, status, `Host: ${host} (Request path)`);
  }
});

Deno.test("a direct handler that declines gets its Request; one that throws gets onError's 500", async () => {
  const seen: string[] = [];
  const handler = withDirect(
    (request: Request) => {
      seen.push(`request ${new URL(request.url).pathname}`);
      return new Response("from the Request path");
    },
    (view): Answer | null => {
      seen.push(`direct ${view.pathname}`);
      if (view.pathname === "/throw") throw new Error("the direct test throws on purpose");
      if (view.pathname === "/decline") return null;
      const headers = new FieldList({ "content-type": "text/plain" });
      return { status: 200, headers, body: { kind: "bytes", bytes: new Uint8Array([0x6f, 0x6b]) } };
    },
  );
  await using server = startServer(handler, {
    onError: () => new Response("oops", { status: 500 }),
  });
  const client = await Client.connect(server.port);
  try {
    await client.send(
      "GET /direct HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /decline HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    const responses = await client.responses(4);
    assert.deepEqual(responses.map((r) => [r.status, r.body]), [
      [200, "ok"],
      [200, "from the Request path"],
      [500, "oops"],
      [200, "ok"],
    ]);
    assert.equal(responses[0].headers.get("content-length"), "2");
  } finally {
    client.conn.close();
  }
  assert.deepEqual(seen, [
    "direct /direct",
    "direct /decline",
    "request /decline",
    "direct /throw",
    "direct /after",
  ]);
});

Deno.test("the access log writes one line per request on either path", async () => {
  await using s = await site({ files: { "a.txt": "hello" } });
  const lines: string[] = [];
  const handler: ServeHandler = withAccessLog(fileServer(s.root), formatCombined, (line) => {
    lines.push(line);
  });
  assert.ok(directOf(handler), "the access log keeps the direct entry point");
  await using server = startServer(handler);
  const headers = "Host: x\r\nReferer: http://r/\r\nUser-Agent: ua\r\nConnection: close\r\n\r\n";
  await exchange(server.port, `GET /a.txt?x=1 HTTP/1.1\r\n${headers}`); // direct
  await exchange(server.port, `GET /a%2Etxt HTTP/1.1\r\n${headers}`); // declined: a Request
  await exchange(server.port, `HEAD /missing HTTP/1.1\r\n${headers}`); // direct
  const tail = lines.map((line) => line.replace(/^.*?\] /, ""));
  assert.deepEqual(tail, [
    '"GET /a.txt?x=1 HTTP/1.1" 200 5 "http://r/" "ua"',
    '"GET /a%2Etxt HTTP/1.1" 200 5 "http://r/" "ua"',
    '"HEAD /missing HTTP/1.1" 404 - "http://r/" "ua"',
  ]);
});

Deno.test("trustProxy and health keep the direct path: the forwarded client reaches it", async () => {
  const seen: string[] = [];
  const handler = withDirect(
    (request: Request, info) => {
      seen.push(`request ${(info.remoteAddr as Deno.NetAddr).hostname}`);
      return new Response(new URL(request.url).pathname);
    },
    (view, info): Answer => {
      seen.push(`direct ${(info.remoteAddr as Deno.NetAddr).hostname} ${view.pathname}`);
      return { status: 200, headers: new FieldList(), body: null };
    },
  );
  await using server = startServer(handler, { trustProxy: ["127.0.0.1"], health: "/healthz" });
  const get = (target: string, extra = "") =>
    exchange(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);
  await get("/page", "X-Forwarded-For: 203.0.113.7\r\n");
  await get("/page");
  const [health] = parseResponses(await get("/healthz"));
  assert.equal(health.status, 200);
  assert.equal(health.body, "ok\n");
  assert.deepEqual(seen, ["direct 203.0.113.7 /page", "direct 127.0.0.1 /page"]);
});
