/**
 * The config file's rules over real sockets and through the handler's `Request` path: redirects
 * (with :name, * and the query), rewrites, and headers by glob.
 */
import assert from "node:assert/strict";
import { Client } from "../helpers.ts";
import { startDev } from "../dev_helpers.ts";
import { cliServer } from "../../src/cli/handler.ts";
import { devOptions } from "../dev_helpers.ts";

const files = {
  "index.html": "<p>home</p>",
  "app/index.html": "<p>app</p>",
  "posts/hello.html": "<p>hello post</p>",
  "assets/site.css": "p{}",
  "assets/deep/x.js": "1",
};
const rules = {
  redirects: [
    { from: "/blog/:slug", to: "/posts/:slug.html", status: 301 },
    { from: "/old/*", to: "/new/*", status: 308 },
    { from: "/ext", to: "https://example.com/x?from=sockserve", status: 302 },
  ],
  rewrites: [{ from: "/app/*", to: "/app/index.html" }, { from: "/p/:id", to: "/posts/:id.html" }],
  headers: [
    {
      source: "/assets/**",
      headers: [["Cache-Control", "max-age=60"], ["X-Asset", "yes"]] as [string, string][],
    },
    { source: "*.js", headers: [["X-Asset", "script"]] as [string, string][] },
  ],
};

async function get(client: Client, target: string) {
  await client.send(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
  return await client.response();
}

Deno.test("rules: redirects fill in :name and *, keep the query unless the target has one", async () => {
  await using dev = await startDev(rules, files);
  const client = await Client.connect(dev.port);
  try {
    const blog = await get(client, "/blog/hello?utm=1");
    assert.equal(blog.status, 301);
    assert.equal(blog.headers.get("location"), "/posts/hello.html?utm=1");
    const old = await get(client, "/old/a/b");
    assert.equal(old.status, 308);
    assert.equal(old.headers.get("location"), "/new/a/b");
    const ext = await get(client, "/ext?ignored=1");
    assert.equal(ext.status, 302);
    assert.equal(ext.headers.get("location"), "https://example.com/x?from=sockserve");
    assert.equal((await get(client, "/blog/a/b")).status, 404, ":slug is one segment");
  } finally {
    client.close();
  }
});

Deno.test("rules: rewrites serve another file under the same URL", async () => {
  await using dev = await startDev(rules, files);
  const client = await Client.connect(dev.port);
  try {
    const deep = await get(client, "/app/settings/profile");
    assert.equal(deep.status, 200);
    assert.equal(deep.body, "<p>app</p>");
    assert.equal((await get(client, "/p/hello")).body, "<p>hello post</p>");
    assert.equal((await get(client, "/p/missing")).status, 404);
  } finally {
    client.close();
  }
});

Deno.test("rules: headers by glob, later rules winning, on files and on 404s", async () => {
  await using dev = await startDev(rules, files);
  const client = await Client.connect(dev.port);
  try {
    const css = await get(client, "/assets/site.css");
    assert.equal(css.headers.get("cache-control"), "max-age=60");
    assert.equal(css.headers.get("x-asset"), "yes");
    const js = await get(client, "/assets/deep/x.js");
    assert.equal(js.headers.get("x-asset"), "script");
    const again = await get(client, "/assets/site.css"); // a shared, cached answer stays right
    assert.equal(again.headers.get("x-asset"), "yes");
    assert.equal((await get(client, "/index.html")).headers.get("x-asset"), undefined);
    assert.equal((await get(client, "/assets/none.css")).headers.get("x-asset"), "yes");
  } finally {
    client.close();
  }
});

Deno.test("rules: the Request path (no direct answers) applies them the same way", async () => {
  const root = await Deno.makeTempDir({ prefix: "sockserve-rules-" });
  try {
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(`${root}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${root}/${path}`, content);
    }
    const served = cliServer({ root, files: {}, log: "off", dev: devOptions(rules) });
    const info = {
      remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 },
      transport: "tcp" as const,
      completed: Promise.resolve(),
    };
    const ask = (path: string) => served.handler(new Request(`http://a${path}`), info);
    const redirect = await ask("/blog/x?q");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), "/posts/x.html?q");
    await redirect.body?.cancel();
    const rewritten = await ask("/app/deep");
    assert.equal(await rewritten.text(), "<p>app</p>");
    const css = await ask("/assets/site.css");
    assert.equal(css.headers.get("x-asset"), "yes");
    await css.body?.cancel();
    await served.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
