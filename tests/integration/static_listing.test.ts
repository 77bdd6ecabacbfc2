/** Directories: index.html, the trailing-slash redirect, and listings as HTML and JSON. */
import assert from "node:assert/strict";
import { site } from "../static_fixture.ts";

Deno.test("a directory serves its index.html", async () => {
  await using s = await site({
    files: { "index.html": "<h1>root</h1>", "docs/index.html": "docs" },
  });
  assert.equal((await s.request("/")).body, "<h1>root</h1>");
  const docs = await s.request("/docs/");
  assert.equal(docs.body, "docs");
  assert.equal(docs.headers.get("content-type"), "text/html; charset=utf-8");
});

Deno.test("a directory without its slash is redirected, query kept, never off-site", async () => {
  await using s = await site({
    files: { "docs/index.html": "docs", "evil.example/x/index.html": "x", "a b/index.html": "" },
  });
  const table: [string, string][] = [
    ["/docs", "/docs/"],
    ["/docs?page=2&q=a%20b", "/docs/?page=2&q=a%20b"],
    ["//docs", "/docs/"],
    ["//evil.example/x", "/evil.example/x/"], // not the protocol-relative //evil.example/x/
    ["///evil.example/x", "/evil.example/x/"],
    ["/./evil.example/x", "/evil.example/x/"],
    ["/a%20b", "/a%20b/"],
  ];
  for (const [target, location] of table) {
    const response = await s.request(target);
    assert.equal(response.status, 301, target);
    assert.equal(response.headers.get("location"), location, target);
    // However a browser resolves it, the Location stays on this origin.
    assert.equal(new URL(location, "http://localhost/").host, "localhost");
  }
});

Deno.test("listing as HTML: sorted, directories first, escaped, sizes, times, parent link", async () => {
  await using s = await site({
    files: {
      "b.txt": "12345",
      "a.txt": "x".repeat(2048),
      "<script>alert(1)<!--.txt": "",
      "zdir/c.txt": "c",
      "Adir/d.txt": "d",
      "zdir/sub/e.txt": "e",
    },
  });
  const root = await s.request("/");
  assert.equal(root.status, 200);
  assert.equal(root.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(root.headers.get("content-security-policy")!, /default-src 'none'/);
  const names = [...root.body.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => m[2]);
  assert.deepEqual(names, [
    "Adir/",
    "zdir/",
    "&lt;script&gt;alert(1)&lt;!--.txt",
    "a.txt",
    "b.txt",
  ]);
  assert.ok(!root.body.includes("<script>"), "names are escaped");
  assert.ok(root.body.includes('href="%3Cscript%3Ealert(1)%3C!--.txt"'), "links are encoded");
  assert.match(root.body, /a\.txt<\/a><\/td><td>2\.0 KiB<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d<\/td>/);
  assert.match(root.body, /b\.txt<\/a><\/td><td>5 B<\/td>/);
  assert.ok(!root.body.includes('href="../"'), "no parent above the root");
  assert.ok(!root.body.includes(s.dir), "no file system path");
  const sub = await s.request("/zdir/");
  assert.ok(sub.body.includes('<a href="../">../</a>'));
  assert.ok(sub.body.includes("Index of /zdir/"));
});

Deno.test("listing as JSON when the client prefers application/json", async () => {
  await using s = await site({ files: { "b.txt": "12345", "dir/x": "" } });
  const table: [string, boolean][] = [
    ["application/json", true],
    ["application/json, text/html;q=0.9", true],
    ["text/html, application/json;q=0.9", false],
    ["text/html,application/xhtml+xml,*/*;q=0.8", false], // a browser
    ["*/*", false],
  ];
  for (const [accept, json] of table) {
    const response = await s.request("/", { accept });
    assert.equal(response.headers.get("vary"), "Accept");
    assert.equal(
      response.headers.get("content-type")!.startsWith("application/json"),
      json,
      accept,
    );
  }
  const listing = JSON.parse((await s.request("/", { accept: "application/json" })).body);
  assert.equal(listing.path, "/");
  assert.deepEqual(
    listing.entries.map((
      e: { name: string; type: string; size: number | null },
    ) => [e.name, e.type, e.size]),
    [
      ["dir", "directory", null],
      ["b.txt", "file", 5],
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(listing.entries[1].modified)));
});

Deno.test("dirListing: false answers 404 for directories without index.html", async () => {
  await using s = await site({
    files: { "a.txt": "a", "docs/index.html": "docs" },
    options: { dirListing: false },
  });
  assert.equal((await s.request("/")).status, 404);
  assert.equal((await s.request("/docs/")).body, "docs");
});

Deno.test("a file asked for with a trailing slash is 404", async () => {
  await using s = await site({ files: { "a.txt": "a" } });
  assert.equal((await s.request("/a.txt/")).status, 404);
});

Deno.test("a listing shows only what a request could get: no links out of the root", async () => {
  await using s = await site({
    files: { "real.txt": "r", ".private/key": "k", "../outside.txt": "secret size" },
    links: { "alias.txt": "real.txt", "escape.txt": "../outside.txt", "sneaky": ".private" },
  });
  const listing = JSON.parse((await s.request("/", { accept: "application/json" })).body);
  assert.deepEqual(listing.entries.map((e: { name: string }) => e.name), ["alias.txt", "real.txt"]);
  assert.equal(listing.entries[0].size, 1);
  await using follow = await site({
    files: { "../outside.txt": "secret size" },
    links: { "escape.txt": "../outside.txt" },
    options: { followSymlinks: true },
  });
  const followed = JSON.parse((await follow.request("/", { accept: "application/json" })).body);
  assert.deepEqual(followed.entries.map((e: { name: string }) => e.name), ["escape.txt"]);
});
