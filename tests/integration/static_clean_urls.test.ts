/**
 * Clean URLs (`cleanUrls`, the CLI's --clean-urls): pages without ".html" over a real socket.
 */
import assert from "node:assert/strict";
import { site } from "../static_fixture.ts";

const files = {
  "about.html": "<p>about</p>",
  "index.html": "<p>home</p>",
  "docs/index.html": "<p>docs</p>",
  "docs/guide.html": "<p>guide</p>",
  "notes": "an extensionless file",
  "notes.html": "<p>notes page</p>",
  "blog/index.html": "<p>blog</p>",
  "blog.html": "<p>blog page</p>",
  "plain.txt": "text",
};

Deno.test("clean URLs: /about serves about.html, /about.html moves to /about with its query", async () => {
  await using s = await site({ files, options: { cleanUrls: true } });
  const about = await s.request("/about");
  assert.equal(about.status, 200);
  assert.equal(about.body, "<p>about</p>");
  assert.equal(about.headers.get("content-type"), "text/html; charset=utf-8");
  const nested = await s.request("/docs/guide?x=1");
  assert.equal(nested.body, "<p>guide</p>");

  const moved = await s.request("/about.html?ref=a%20b");
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.get("location"), "/about?ref=a%20b");
  assert.equal((await s.request("/docs/guide.html")).headers.get("location"), "/docs/guide");
  // HEAD is redirected the same way.
  assert.equal((await s.request("/about.html", {}, "HEAD")).status, 301);
});

Deno.test("clean URLs: index.html moves to its directory, which still serves it", async () => {
  await using s = await site({ files, options: { cleanUrls: true } });
  assert.equal((await s.request("/docs/")).body, "<p>docs</p>");
  assert.equal((await s.request("/")).body, "<p>home</p>");
  const index = await s.request("/docs/index.html?q");
  assert.equal(index.status, 301);
  assert.equal(index.headers.get("location"), "/docs/?q");
  assert.equal((await s.request("/index.html")).headers.get("location"), "/");
  // A directory without the slash still gets the slash first (relative links), not blog.html.
  const dir = await s.request("/docs");
  assert.equal(dir.status, 301);
  assert.equal(dir.headers.get("location"), "/docs/");
});

Deno.test("clean URLs: what is really at a path wins over its .html page", async () => {
  await using s = await site({ files, options: { cleanUrls: true } });
  // An extensionless file is served as itself; its .html twin keeps its own URL then.
  assert.equal((await s.request("/notes")).body, "an extensionless file");
  const twin = await s.request("/notes.html");
  assert.equal(twin.status, 200);
  assert.equal(twin.body, "<p>notes page</p>");
  // A directory of the same name too.
  assert.equal((await s.request("/blog")).headers.get("location"), "/blog/");
  assert.equal((await s.request("/blog.html")).status, 200);
  // Other files and missing pages are untouched.
  assert.equal((await s.request("/plain.txt")).body, "text");
  assert.equal((await s.request("/plain")).status, 404);
  assert.equal((await s.request("/missing")).status, 404);
  assert.equal((await s.request("/missing.html")).status, 404);
});

Deno.test("without clean URLs, /about is 404 and /about.html is served", async () => {
  await using s = await site({ files });
  assert.equal((await s.request("/about")).status, 404);
  assert.equal((await s.request("/about.html")).body, "<p>about</p>");
});

Deno.test("clean URLs: a hidden page is not reached through its clean name", async () => {
  await using s = await site({
    files: { ".secret.html": "hidden", "a/.b.html": "hidden" },
    options: { cleanUrls: true },
  });
  assert.equal((await s.request("/.secret")).status, 404);
  assert.equal((await s.request("/a/.b")).status, 404);
});
