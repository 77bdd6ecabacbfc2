/**
 * fileServer() as a whole: methods, content types, CORS, extra headers, not-found pages, the
 * single-page-app fallback, streaming large files, and refusing bad configuration at startup.
 */
import assert from "node:assert/strict";
import { fileServer } from "../../mod.ts";
import { run } from "../helpers.ts";
import { site, text } from "../static_fixture.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

Deno.test("only GET and HEAD: other methods are 405 with Allow", async () => {
  await using s = await site({ files: { "a.txt": "a" } });
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const response = await s.request("/a.txt", {}, method);
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
  }
  const head = await s.request("/a.txt", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "1");
  assert.ok(head.raw.endsWith("\r\n\r\n"), "HEAD has no body");
});

Deno.test("content types from mime-db, charset for text, nosniff everywhere", async () => {
  const table: [string, string][] = [
    ["index.html", "text/html; charset=utf-8"],
    ["style.css", "text/css; charset=utf-8"],
    ["app.js", "text/javascript; charset=utf-8"],
    ["mod.mjs", "text/javascript; charset=utf-8"],
    ["data.json", "application/json; charset=utf-8"],
    ["notes.txt", "text/plain; charset=utf-8"],
    ["README.md", "text/markdown; charset=utf-8"],
    ["logo.svg", "image/svg+xml"],
    ["photo.JPG", "image/jpeg"],
    ["font.woff2", "font/woff2"],
    ["module.wasm", "application/wasm"],
    ["movie.mp4", "video/mp4"],
    ["archive.tar.gz", "application/gzip"],
    ["no-extension", "application/octet-stream"],
    ["file.unknownext", "application/octet-stream"],
  ];
  await using s = await site({ files: Object.fromEntries(table.map(([name]) => [name, "x"])) });
  for (const [name, type] of table) {
    const response = await s.request(`/${name}`);
    assert.equal(response.headers.get("content-type"), type, name);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", name);
  }
  assert.equal((await s.request("/missing")).headers.get("x-content-type-options"), "nosniff");
});

withCurl.test("curl -I shows the head of a file response", async () => {
  await using s = await site({ files: { "page.html": "<p>hi</p>" } });
  const result = await run("curl", ["-sS", "-I", `${s.origin}/page.html`]);
  const lines = result.stdout.toLowerCase();
  assert.match(lines, /^http\/1\.1 200 ok\r\n/);
  for (const header of ["etag: ", "last-modified: ", "accept-ranges: bytes", "content-length: 9"]) {
    assert.ok(lines.includes(header), header);
  }
});

Deno.test("cors: Access-Control-Allow-Origin on every response and preflight answers", async () => {
  await using s = await site({ files: { "a.txt": "a" }, options: { cors: true } });
  for (const target of ["/a.txt", "/missing"]) {
    const response = await s.request(target, { origin: "http://other.example" });
    assert.equal(response.headers.get("access-control-allow-origin"), "*", target);
  }
  const preflight = await s.request("/a.txt", {
    origin: "http://other.example",
    "access-control-request-method": "GET",
    "access-control-request-headers": "range, x-custom",
  }, "OPTIONS");
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, HEAD, OPTIONS");
  assert.equal(preflight.headers.get("access-control-allow-headers"), "range, x-custom");
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.equal((await s.request("/a.txt", {}, "POST")).headers.get("allow"), "GET, HEAD, OPTIONS");
  // Off by default.
  await using plain = await site({ files: { "a.txt": "a" } });
  assert.ok(!(await plain.request("/a.txt")).headers.has("access-control-allow-origin"));
});

Deno.test("cacheControl on files and their 304s; extra headers on every response", async () => {
  await using s = await site({
    files: { "a.txt": "a" },
    options: {
      cacheControl: "public, max-age=60",
      headers: { "x-frame-options": "DENY", "x-served-by": "sockserve" },
    },
  });
  const ok = await s.request("/a.txt");
  assert.equal(ok.headers.get("cache-control"), "public, max-age=60");
  const notModified = await s.request("/a.txt", { "if-none-match": ok.headers.get("etag")! });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.get("cache-control"), "public, max-age=60");
  const missing = await s.request("/missing");
  assert.ok(!missing.headers.has("cache-control"), "not-found pages are not cached as files");
  for (const response of [ok, notModified, missing]) {
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("x-served-by"), "sockserve");
  }
});

Deno.test("a 404.html at the root is the not-found page", async () => {
  await using s = await site({ files: { "404.html": "<h1>custom missing</h1>" } });
  const response = await s.request("/nope/nothing.txt");
  assert.equal(response.status, 404);
  assert.equal(response.body, "<h1>custom missing</h1>");
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.ok(!response.headers.has("etag"));
  await using bare = await site({});
  assert.equal((await bare.request("/nope")).body, "404 Not Found\n");
});

Deno.test("spa: unknown paths asked for as HTML get /index.html; assets stay 404", async () => {
  await using s = await site({
    files: { "index.html": "<div id=app></div>", "404.html": "missing", "app.js": "js" },
    options: { spa: true },
  });
  const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  const route = await s.request("/users/42/settings", { accept: browser });
  assert.equal(route.status, 200);
  assert.equal(route.body, "<div id=app></div>");
  const asset = await s.request("/missing.js", { accept: "*/*" });
  assert.equal(asset.status, 404);
  assert.equal(asset.body, "missing");
  assert.equal((await s.request("/app.js", { accept: browser })).body, "js");
  await using off = await site({ files: { "index.html": "<div id=app></div>" } });
  assert.equal((await off.request("/users/42", { accept: browser })).status, 404);
});

withCurl.test("a large file streams whole and exact, with its length announced", async () => {
  const size = 12 * 1024 * 1024 + 123; // many chunks, not a multiple of the chunk size
  const big = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  await using s = await site({ files: { "big.bin": big } });
  const out = `${s.dir}/copy.bin`;
  const result = await run("curl", [
    "-sS",
    "-o",
    out,
    "-w",
    "%{http_code} %{header_json}",
    `${s.origin}/big.bin`,
  ]);
  const [code, ...json] = result.stdout.split(" ");
  assert.equal(code, "200");
  assert.deepEqual(JSON.parse(json.join(" "))["content-length"], [String(size)]);
  assert.deepEqual(await Deno.readFile(out), big);
});

Deno.test("bad configuration fails at creation, not as 404s", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file.txt`, "x");
    assert.throws(() => fileServer(`${dir}/missing`), Deno.errors.NotFound);
    assert.throws(() => fileServer(`${dir}/file.txt`), /not a directory/);
    assert.throws(() => fileServer(dir, { dotfiles: "maybe" as "allow" }), /dotfiles/);
    assert.throws(() => fileServer(dir, { headers: { "content-length": "1" } }), /content-length/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("works as a plain handler without any server", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/hello.txt`, text(100));
    const handler = fileServer(dir);
    const response = await handler(new Request("http://x/hello.txt"));
    assert.equal(response.status, 200);
    assert.equal(await response.text(), text(100));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
