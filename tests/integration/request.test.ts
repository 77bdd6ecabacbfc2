/**
 * Building the `Request` a handler sees (src/request.ts), and the templates a repeated URL's
 * `Request` is copied from: a copy must be indistinguishable from a `Request` built afresh, and
 * must carry nothing of the requests before it.
 */
import assert from "node:assert/strict";
import { HttpError } from "../../src/errors.ts";
import { DEFAULT_LIMITS } from "../../src/options.ts";
import { parseHead } from "../../src/http1/parse.ts";
import { buildRequest, RequestTemplates, requestView } from "../../src/handler/request.ts";
import { exchange, parseResponses, startServer } from "../helpers.ts";

const encoder = new TextEncoder();

function head(text: string) {
  const bytes = encoder.encode(text);
  return parseHead(bytes, 0, bytes.length, DEFAULT_LIMITS);
}

/** What a handler can observe of a request, with the body read. */
async function observe(request: Request) {
  return {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    redirect: request.redirect,
    aborted: request.signal.aborted,
    bodyUsed: request.bodyUsed,
    body: await request.text(),
  };
}

/** The same request built by hand with `new Request`, the reference every copy must equal. */
function reference(url: string, method: string, headers: [string, string][], body: string | null) {
  return new Request(url, { method, headers, body: body === null ? null : encoder.encode(body) });
}

const cases: {
  name: string;
  lines: (n: number) => string;
  url: string;
  method: string;
  body: (n: number) => string | null;
}[] = [
  {
    name: "GET",
    lines: (n) => `GET /a?q=${0} HTTP/1.1\r\nHost: example.com\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://example.com/a?q=0",
    method: "GET",
    body: () => null,
  },
  {
    name: "HEAD",
    lines: (n) => `HEAD / HTTP/1.1\r\nHost: example.com:8080\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://example.com:8080/",
    method: "HEAD",
    body: () => null,
  },
  {
    name: "POST with a body",
    lines: (n) => `POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://h/form",
    method: "POST",
    body: (n) => `b=${n}`,
  },
  {
    name: "an extension method",
    lines: (n) => `PROPFIND /dav/ HTTP/1.1\r\nHost: h\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://h/dav/",
    method: "PROPFIND",
    body: () => null,
  },
  {
    name: "OPTIONS *",
    lines: (n) => `OPTIONS * HTTP/1.1\r\nHost: h\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://h/*",
    method: "OPTIONS",
    body: () => null,
  },
  {
    name: "absolute-form",
    lines: (n) => `GET http://other.example/x HTTP/1.1\r\nHost: h\r\nX-Seq: ${n}\r\n\r\n`,
    url: "http://other.example/x",
    method: "GET",
    body: () => null,
  },
];

for (const c of cases) {
  Deno.test(`buildRequest: ${c.name}, built afresh, then from a template, equals new Request`, async () => {
    // The first sight builds afresh, the second makes the template, the later ones are made from
    // it (lazily, or copied); the header that changes each time proves none keeps the fields of
    // the one before. A body comes as a stream (from a connection) or as bytes (a datagram's).
    for (let n = 0; n < 6; n++) {
      const parsed = head(c.lines(n));
      const body = c.body(n);
      const bytes = body === null ? null : encoder.encode(body);
      const request = buildRequest(
        parsed,
        bytes !== null && n % 2 === 0 ? ReadableStream.from([bytes]) : bytes,
        "http",
        "h",
      );
      const fields: [string, string][] = [];
      for (let i = 0; i < parsed.fields.length; i += 2) {
        fields.push([parsed.fields[i], parsed.fields[i + 1]]);
      }
      assert.deepEqual(
        await observe(request),
        await observe(reference(c.url, c.method, fields, body)),
        `request ${n + 1}`,
      );
    }
  });
}

Deno.test("buildRequest: a copy's signal and body are its own", async () => {
  const lines = "POST /own HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n";
  const requests = ["a", "b", "c"].map((body) =>
    buildRequest(head(lines), encoder.encode(body), "http", "h")
  );
  assert.notEqual(requests[1].signal, requests[2].signal);
  assert.equal(await requests[2].text(), "c");
  assert.equal(requests[1].bodyUsed, false, "reading one copy's body leaves the other's");
  assert.equal(await requests[1].text(), "b");
  // A copy behaves as a Request everywhere a Request goes.
  const cloned = requests[0].clone();
  assert.equal(await cloned.text(), "a");
  assert.equal(new Request(requests[0]).url, "http://h/own");
});

Deno.test("buildRequest: a refused URL or method is refused every time it comes", () => {
  const refusals: [string, number][] = [
    ["GET http://[zz]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 501],
    ["get / HTTP/1.1\r\nHost: h\r\n\r\n", 501],
  ];
  for (const [lines, status] of refusals) {
    for (let n = 0; n < 3; n++) {
      assert.throws(
        () => buildRequest(head(lines), null, "http", "h"),
        (error) => error instanceof HttpError && error.status === status,
        `${JSON.stringify(lines)}, attempt ${n + 1}`,
      );
    }
  }
});

Deno.test("RequestTemplates: made on the second sight, bounded by its slots, never for long URLs", () => {
  for (const slots of [0, 3, 100]) assert.throws(() => new RequestTemplates(slots), RangeError);
  const templates = new RequestTemplates(4);
  assert.equal(templates.lookup("http", "h", "/a"), null, "first sight");
  const a = templates.lookup("http", "h", "/a");
  assert.ok(a instanceof Request);
  assert.equal(a.url, "http://h/a");
  assert.equal(templates.lookup("http", "h", "/a"), a, "later sights share it");

  for (let n = 0; n < 100; n++) {
    templates.lookup("http", "h", `/${n}`);
    templates.lookup("http", "h", `/${n}`);
  }
  assert.ok(templates.size >= 1 && templates.size <= 4, `${templates.size} templates kept`);

  const long = `/${"x".repeat(1100)}`;
  for (let n = 0; n < 3; n++) assert.equal(templates.lookup("http", "h", long), null);
  // The same path under another authority (of the same length: the same slot) or another scheme
  // is another URL.
  for (const [origin, authority] of [["http", "x"], ["https", "h"]]) {
    templates.lookup("http", "h", "/b");
    assert.ok(templates.lookup("http", "h", "/b") instanceof Request);
    assert.equal(templates.lookup(origin, authority, "/b"), null, `${origin}://${authority}/b`);
    assert.equal(templates.lookup("http", "h", "/b"), null, "the slot went to the other URL");
  }
});

Deno.test("buildRequest over a socket: requests to one URL each see only their own fields", async () => {
  await using server = startServer((request) =>
    new Response(`${request.headers.get("x-seq")} ${[...request.headers.keys()].join(",")}`)
  );
  const raw = [0, 1, 2, 3].map((n) =>
    `GET /same HTTP/1.1\r\nHost: h\r\nX-Seq: ${n}\r\n${n === 2 ? "X-Extra: 1\r\n" : ""}` +
    (n === 3 ? "Connection: close\r\n\r\n" : "\r\n")
  ).join("");
  const responses = parseResponses(await exchange(server.port, raw));
  assert.deepEqual(responses.map((r) => r.body), [
    "0 host,x-seq",
    "1 host,x-seq",
    "2 host,x-extra,x-seq",
    "3 connection,host,x-seq",
  ]);
});

Deno.test("requestView's fields read as a Request's headers.get reads them", () => {
  const sent = "GET /a HTTP/1.1\r\nHost: x\r\nAccept: a/b\r\nCache-Control: no-cache\r\n" +
    "accept: c/d\r\nX-Empty:\r\n\r\n";
  const parsed = head(sent);
  const view = requestView(parsed, "http")!;
  const request = buildRequest(parsed, null, "http", "x");
  // One field, two joined with ", ", an empty value, none; names in any case.
  for (const name of ["host", "Accept", "cache-control", "x-empty", "range", "If-None-Match"]) {
    assert.equal(view.headers.get(name), request.headers.get(name), name);
  }
});
