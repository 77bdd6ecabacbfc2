/**
 * The lazily built `Request` (src/lazy_request.ts): wherever a handler, Deno or another program
 * can look, it must be the `Request` that `new Request` makes of the same parts.
 */
import assert from "node:assert/strict";
import { lazyRequest } from "../../src/handler/lazy_request.ts";
import { startServer } from "../helpers.ts";
import { requireInternals } from "../tools.ts";
import { INTERNALS_ALLOWED } from "../../src/deno/gate.ts";

/** The tests of requests built on Deno's slots, which run where those are used. */
const internals = { ignore: requireInternals() };

const encoder = new TextEncoder();
const REQUEST_URL = "http://example.com:8080/a/b?q=1";
const FIELDS = ["host", "example.com:8080", "accept", "a/b", "x-two", "1", "x-two", "2"];

function pairs(fields: readonly string[]): [string, string][] {
  const list: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) list.push([fields[i], fields[i + 1]]);
  return list;
}

function streamOf(text: string | null): ReadableStream<Uint8Array> | null {
  return text === null ? null : ReadableStream.from([encoder.encode(text)]);
}

/** A lazy request for the parts, failing the test where Deno's internals are not the ones known. */
function lazy(method: string, body: string | null, fields = FIELDS, url = REQUEST_URL): Request {
  const request = lazyRequest(method, url, fields, streamOf(body));
  assert.ok(
    request instanceof Request,
    "lazyRequest gave null: this Deno's Request internals differ from those src/deno/request_slots.ts " +
      "checks for, and every request is copied from its template instead (slower, still right)",
  );
  return request;
}

function reference(
  method: string,
  body: string | null,
  fields = FIELDS,
  url = REQUEST_URL,
): Request {
  return new Request(url, { method, headers: pairs(fields), body: streamOf(body) });
}

/** What can be seen of a request, body read last. */
async function observe(request: Request) {
  const seen = {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    accept: request.headers.get("Accept"),
    redirect: request.redirect,
    mode: request.mode,
    credentials: request.credentials,
    cache: request.cache,
    referrer: request.referrer,
    aborted: request.signal.aborted,
    hasBody: request.body !== null,
    bodyUsedBefore: request.bodyUsed,
    inspect: Deno.inspect(request),
  };
  return { ...seen, body: await request.text(), bodyUsedAfter: request.bodyUsed };
}

const cases: [method: string, body: string | null][] = [
  ["GET", null],
  ["HEAD", null],
  ["POST", "a=1&b=2"],
  ["PUT", "ü and bytes"],
  ["DELETE", null],
  ["OPTIONS", null],
  ["PATCH", "{}"],
  ["POST", null],
];

for (const [method, body] of cases) {
  const name = `${method} ${body === null ? "without" : "with"} a body`;
  Deno.test(`lazyRequest: ${name} is seen as new Request makes it`, internals, async () => {
    assert.deepEqual(await observe(lazy(method, body)), await observe(reference(method, body)));
  });

  Deno.test(
    `lazyRequest: ${name}, cloned and copied, is seen as new Request's would be`,
    internals,
    async () => {
      const request = lazy(method, body);
      const expected = reference(method, body);
      assert.deepEqual(await observe(request.clone()), await observe(expected.clone()), "clone");
      const init = { headers: { "x-init": "1" } };
      assert.deepEqual(
        await observe(new Request(request, init)),
        await observe(new Request(expected, init)),
        "new Request(request, init)",
      );
      assert.equal(request.bodyUsed, expected.bodyUsed, "the copy took the body (or had none)");
    },
  );
}

Deno.test(
  "lazyRequest: headers changed by the handler are the request's from then on",
  internals,
  () => {
    const request = lazy("GET", null);
    request.headers.set("accept", "text/html");
    request.headers.append("x-added", "yes");
    request.headers.delete("x-two");
    const expected = [["accept", "text/html"], ["host", "example.com:8080"], ["x-added", "yes"]];
    assert.deepEqual([...request.headers], expected);
    assert.deepEqual([...request.clone().headers], expected, "a clone sees the changed list");
  },
);

Deno.test(
  "lazyRequest: each request's header list is its own, made from its own fields",
  internals,
  () => {
    const a = lazy("GET", null, ["host", "h", "x-seq", "1"]);
    const b = lazy("GET", null, ["host", "h", "x-seq", "2"]);
    a.headers.set("x-seq", "changed");
    assert.equal(b.headers.get("x-seq"), "2");
    assert.notEqual(a.signal, b.signal);
  },
);

Deno.test("lazyRequest: a body can be read once, and is then used", internals, async () => {
  const request = lazy("POST", "once");
  assert.equal(await request.text(), "once");
  await assert.rejects(() => request.text(), TypeError);
  assert.throws(() => request.clone(), TypeError);
});

Deno.test("lazyRequest: fetch sends it as it is, over a socket", internals, async () => {
  await using server = startServer(async (request) =>
    Response.json({
      method: request.method,
      url: new URL(request.url).pathname + new URL(request.url).search,
      x: request.headers.get("x-two"),
      body: await request.text(),
    })
  );
  const url = `http://127.0.0.1:${server.port}/sent?x=1`;
  const fields = ["host", `127.0.0.1:${server.port}`, "x-two", "1", "x-two", "2"];
  const response = await fetch(lazy("PUT", "payload", fields, url));
  assert.deepEqual(await response.json(), {
    method: "PUT",
    url: "/sent?x=1",
    x: "1, 2",
    body: "payload",
  });
});

Deno.test("lazyRequest: null for what only new Request can check, or carry", () => {
  // Methods Fetch upper-cases or forbids, and extension methods, go through new Request.
  for (const method of ["get", "Post", "TRACE", "CONNECT", "PROPFIND", "M-SEARCH"]) {
    assert.equal(lazyRequest(method, REQUEST_URL, FIELDS, null), null, method);
  }
  // Bytes (a datagram's body) go through new Request too.
  assert.equal(lazyRequest("POST", REQUEST_URL, FIELDS, encoder.encode("x")), null, "bytes body");
});

Deno.test("lazyRequest: null for every request where Deno's internals are off (each is copied)", {
  ignore: INTERNALS_ALLOWED,
}, () => {
  for (const [method, body] of cases) {
    assert.equal(lazyRequest(method, REQUEST_URL, FIELDS, streamOf(body)), null, method);
  }
});
