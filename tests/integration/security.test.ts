/**
 * Security review as tests (docs/security.md): response splitting, open redirects, escaping in
 * listings and error pages, and error responses that give nothing away. Covered elsewhere and not
 * repeated here: the redirect table and one hostile name in tests/static_listing.test.ts, path
 * traversal in tests/static_path.test.ts, request smuggling in tests/conn.test.ts and
 * tests/e2e/differential/.
 */
import assert from "node:assert/strict";
import { fileServer } from "../../mod.ts";
import { exchange, parseResponses, readToEnd, startServer, writeAll } from "../helpers.ts";
import { corpus } from "../e2e/differential/corpus.ts";
import { site } from "../static_fixture.ts";

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;
const HOSTILE = ["\r\nX-Injected: 1", "\nX-Injected: 1", "\rX-Injected: 1", "a\0b"];

/** A Response whose headers or status text bypass the Headers class's own checks. */
class ForgedResponse extends Response {
  #fields: [string, string][];
  #reason: string;
  constructor(fields: [string, string][], reason = "OK") {
    super("forged");
    this.#fields = fields;
    this.#reason = reason;
  }
  override get headers(): Headers {
    return {
      get: () => null,
      [Symbol.iterator]: () => this.#fields[Symbol.iterator](),
    } as unknown as Headers;
  }
  override get statusText(): string {
    return this.#reason;
  }
}

Deno.test("response splitting: CR, LF or NUL in a handler's header name, value or reason is refused", async () => {
  const cases: [string, () => Response][] = [];
  for (const bad of HOSTILE) {
    cases.push([
      `Headers value ${JSON.stringify(bad)}`,
      () => new Response("x", { headers: { "x-a": `v${bad}` } }),
    ]);
    cases.push([
      `Headers name ${JSON.stringify(bad)}`,
      () => new Response("x", { headers: { [`x${bad}`]: "v" } }),
    ]);
    cases.push([
      `statusText ${JSON.stringify(bad)}`,
      () => new Response("x", { statusText: `OK${bad}` }),
    ]);
    cases.push([
      `forged value ${JSON.stringify(bad)}`,
      () => new ForgedResponse([["x-a", `v${bad}`]]),
    ]);
    cases.push([
      `forged name ${JSON.stringify(bad)}`,
      () => new ForgedResponse([[`x-a${bad}`, "v"]]),
    ]);
    cases.push([`forged reason ${JSON.stringify(bad)}`, () => new ForgedResponse([], `OK${bad}`)]);
  }
  let current = cases[0][1];
  await using s = startServer(() => current(), {
    onError: () => new Response("refused", { status: 500 }),
  });
  for (const [name, make] of cases) {
    current = make;
    const raw = await exchange(s.port, GET("/"));
    const head = raw.slice(0, raw.indexOf("\r\n\r\n") + 2);
    assert.ok(!/\r\nX-Injected/i.test(raw) && !/\r\n\r\nX-Injected/i.test(raw), `${name}: ${raw}`);
    assert.ok(!/[\r\n\0]X-Injected/i.test(raw), `${name}: no injected line`);
    assert.ok(!head.includes("\0"), `${name}: no NUL in the head`);
    // The handler's response never goes out: a 500 instead (or, at worst, a bare close).
    if (raw !== "") assert.match(raw, /^HTTP\/1\.1 500 /, `${name}: ${raw}`);
    assert.equal(parseResponses(await exchange(s.port, GET("/"))).length <= 1, true);
  }
  // And the server still answers.
  current = () => new Response("fine");
  assert.equal(parseResponses(await exchange(s.port, GET("/")))[0].body, "fine");
});

Deno.test("response splitting: a forged header answers 500, not a silent close (engine)", async () => {
  await using s = startServer(() => new ForgedResponse([["x-a", "v\r\nX-Injected: 1"]]));
  const raw = await exchange(s.port, GET("/"));
  assert.match(raw, /^HTTP\/1\.1 500 /, `got ${JSON.stringify(raw)}`);
});

Deno.test("fileServer refuses CR/LF in configured headers at creation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const bad of HOSTILE) {
      assert.throws(() => fileServer(dir, { headers: { "x-a": `v${bad}` } }), TypeError);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("open redirects: directory redirects stay on the host for hostile paths", async () => {
  await using s = await site({
    files: {
      "evil.example/index.html": "e",
      "\\evil.example/index.html": "b",
      "@evil.example/index.html": "a",
      "http:/evil.example/index.html": "h",
    },
  });
  const targets = [
    "/evil.example",
    "//evil.example",
    "/%2Fevil.example",
    "/%2F%2Fevil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "//%5Cevil.example",
    "/@evil.example",
    "/%40evil.example",
    "/./evil.example",
    "/x/../evil.example",
    "/http:/evil.example",
    "/http:%2Fevil.example",
    "/%09/evil.example",
  ];
  for (const target of targets) {
    const response = await s.request(target);
    const location = response.headers.get("location");
    if (response.status !== 301) {
      assert.ok(location === undefined, `${target}: no Location on ${response.status}`);
      continue;
    }
    assert.ok(location !== undefined);
    assert.match(location, /^\/[^/\\]/, `${target} → ${location}: one slash, then a segment`);
    assert.ok(
      ![...location].some((c) => c <= " " || c === "\\"),
      `${target} → ${location}: nothing a browser strips`,
    );
    for (const base of ["http://localhost/", "http://localhost/a/b/"]) {
      assert.equal(new URL(location, base).host, "localhost", `${target} → ${location}`);
    }
  }
});

const XSS_NAMES = [
  `"><img src=x onerror=alert(1)>`,
  `'><svg onload=alert(2)>`,
  "<title>x<script>alert(3)",
  "javascript:alert(4)",
  "&lt;pre-escaped&gt;",
  "a\nb<i>.txt",
  "<!--",
];

Deno.test("listings escape every hostile name, in text, links and the title", async () => {
  const files: Record<string, string> = {};
  for (const name of XSS_NAMES) files[name] = "x";
  files[`<svg onload=alert(5)>/inner.txt`] = "y";
  await using s = await site({ files });
  const pages = [await s.request("/"), await s.request("/%3Csvg%20onload%3Dalert(5)%3E/")];
  for (const page of pages) {
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'none'/);
    // Only the page's own tags and attributes: nothing a name could have added.
    const tags = new Set([...page.body.matchAll(/<\/?([a-zA-Z!][a-zA-Z0-9]*)/g)].map((m) => m[1]));
    assert.deepEqual(
      [...tags].filter((t) =>
        ![
          "!DOCTYPE",
          "html",
          "head",
          "meta",
          "title",
          "style",
          "body",
          "h1",
          "table",
          "thead",
          "tr",
          "th",
          "tbody",
          "td",
          "a",
        ].includes(t)
      ),
      [],
    );
    for (const [tag] of page.body.matchAll(/<[^>]*>/g)) {
      assert.ok(!/\son\w+=/i.test(tag), `no event handler attribute: ${tag}`);
    }
    for (const m of page.body.matchAll(/href="([^"]*)"/g)) {
      assert.ok(!/^[a-z][a-z0-9+.-]*:/i.test(m[1]), `relative link: ${m[1]}`);
    }
  }
  assert.ok(pages[1].body.includes("Index of /&lt;svg onload=alert(5)&gt;/"));
  // JSON listing: names come back exactly, as data.
  const json = await s.request("/", { accept: "application/json" });
  const names = JSON.parse(json.body).entries.map((e: { name: string }) => e.name);
  for (const name of XSS_NAMES) assert.ok(names.includes(name), name);
});

/** What no error page may contain: stack frames, file URLs, absolute paths of this machine. */
function assertNothingLeaks(body: string, where: string, extra: string[] = []): void {
  for (
    const secret of [Deno.cwd(), Deno.execPath(), "file://", "/tmp/", "/root", ...extra]
  ) {
    assert.ok(!body.includes(secret), `${where}: contains ${secret}: ${body}`);
  }
  assert.ok(!/\n\s+at /.test(body), `${where}: stack trace: ${body}`);
  assert.ok(!/Error:/.test(body), `${where}: exception text: ${body}`);
}

Deno.test("error responses carry no stack trace, exception text or absolute path", async () => {
  const secretPath = `${Deno.cwd()}/secret/config.json`;
  const quiet = console.error;
  console.error = () => {}; // the default onError logs the error: that is the operator's copy
  try {
    await using s = startServer((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/throw") throw new Error(`cannot open ${secretPath}`);
      if (path === "/reject") return Promise.reject(new TypeError(secretPath));
      if (path === "/fs") return Deno.readFile(secretPath).then((b) => new Response(b));
      return new Response("ok");
    });
    for (const path of ["/throw", "/reject", "/fs"]) {
      const [res] = parseResponses(await exchange(s.port, GET(path)));
      assert.equal(res.status, 500, path);
      assertNothingLeaks(res.body, path, [secretPath, "secret"]);
    }
    // Every malformed request of the differential corpus: the engine's own error pages.
    let errors = 0;
    for (const c of corpus()) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      await writeAll(conn, c.bytes);
      await conn.closeWrite(); // the end of input: incomplete requests end too
      const text = new TextDecoder().decode(await readToEnd(conn));
      conn.close();
      for (const res of parseResponses(text)) {
        if (res.status < 400) continue;
        errors++;
        assertNothingLeaks(res.body, c.name);
        assert.match(res.headers.get("content-type") ?? "", /^text\/plain/, c.name);
      }
    }
    assert.ok(errors > 100, `${errors} error pages checked`);
  } finally {
    console.error = quiet;
  }
  // fileServer's own pages: fixed text, never the root or the file name.
  await using f = await site({ files: { "a.txt": "a", "d/x.txt": "x" } });
  const pages = [
    await f.request("/missing.txt"),
    await f.request("/%zz"),
    await f.request("/a.txt", {}, "POST"),
    await f.request("/a.txt", { range: "bytes=9-" }),
    await f.request("/a.txt/"),
  ];
  for (const page of pages) {
    assert.match(page.body, /^\d{3} [A-Za-z ]+\n$/, page.body);
    assertNothingLeaks(page.body, `fileServer ${page.status}`, [f.root, f.dir]);
  }
});
