/**
 * `--watch` over real sockets: the Server-Sent Event a file change sends, the reserved paths, and
 * the injected script in HTML answers (length, validators, ranges and codings).
 */
import assert from "node:assert/strict";
import { Client, parseResponses } from "../helpers.ts";
import { RawClient, startDev } from "../dev_helpers.ts";
import { EVENTS_PATH, SCRIPT_PATH, SCRIPT_TAG } from "../../src/cli/live_reload.ts";
import { injectMarkup } from "../../src/static/inject.ts";
import { LIVE_RELOAD_SCRIPT } from "../../src/cli/live_reload_client.ts";

const PAGE = "<!doctype html><title>t</title><body><p>hello</p></body></html>";

/** Reads `change` events off an event stream until one names `path`; returns its paths. */
async function changeNaming(client: RawClient, path: string): Promise<string[]> {
  let found: string[] = [];
  await client.until((text) => {
    for (const match of text.matchAll(/event: change\ndata: (.*)\n\n/g)) {
      const paths: string[] = JSON.parse(match[1]).paths;
      if (paths.includes(path)) {
        found = paths;
        return true;
      }
    }
    return false;
  }, `a change event naming ${path}`);
  return found;
}

Deno.test("live reload: a changed file under the root sends a change event naming its URL path", async () => {
  await using dev = await startDev({ watch: true }, { "index.html": PAGE, "css/site.css": "p{}" });
  using client = await RawClient.connect(dev.port);
  await client.send(`GET ${EVENTS_PATH} HTTP/1.1\r\nHost: a\r\n\r\n`);
  await client.until((t) => t.includes(": sockserve live reload\n\n"), "the stream's greeting");
  assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(client.text, /content-type: text\/event-stream\r\n/);
  assert.match(client.text, /transfer-encoding: chunked\r\n/);
  assert.match(client.text, /retry: 1000\n/);

  await Deno.writeTextFile(`${dev.root}/css/site.css`, "p { color: red }");
  assert.deepEqual(await changeNaming(client, "/css/site.css"), ["/css/site.css"]);

  await Deno.writeTextFile(`${dev.root}/new page.html`, PAGE);
  assert.ok((await changeNaming(client, "/new page.html")).includes("/new page.html"));
  // Hidden names are not pages' business: a change there alone sends nothing, and a later change
  // arrives without it.
  await Deno.mkdir(`${dev.root}/.git`);
  await Deno.writeTextFile(`${dev.root}/.git/HEAD`, "ref");
  await Deno.writeTextFile(`${dev.root}/index.html`, PAGE + " ");
  const paths = await changeNaming(client, "/index.html");
  assert.ok(paths.every((p) => !p.includes(".git")), JSON.stringify(paths));
});

Deno.test("live reload: the reserved paths are answered before any file of the same name", async () => {
  await using dev = await startDev({ watch: true }, {
    ".sockserve/livereload.js": "a file that must not be served",
  });
  const client = await Client.connect(dev.port);
  try {
    await client.send(`GET ${SCRIPT_PATH} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const script = await client.response();
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(script.body, LIVE_RELOAD_SCRIPT);
    await client.send("GET /.sockserve/other HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await client.response()).status, 404);
    await client.send(`POST ${EVENTS_PATH} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n`);
    assert.equal((await client.response()).status, 405);
  } finally {
    client.close();
  }
});

Deno.test("live reload: HTML gets the script before </body>, with its own length and ETag", async () => {
  await using plain = await startDev({}, { "index.html": PAGE });
  await using dev = await startDev({ watch: true }, {
    "index.html": PAGE,
    "bare.html": "<p>no body tag",
    "notes.txt": "</body> is not HTML here",
  });
  const client = await Client.connect(dev.port);
  const plainClient = await Client.connect(plain.port);
  try {
    await client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const page = await client.response();
    const expected = PAGE.replace("</body>", `${SCRIPT_TAG}</body>`);
    assert.equal(page.body, expected);
    assert.equal(
      Number(page.headers.get("content-length")),
      new TextEncoder().encode(expected).length,
    );
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const etag = page.headers.get("etag")!;

    // Without --watch: the file as it is, under another tag.
    await plainClient.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const original = await plainClient.response();
    assert.equal(original.body, PAGE);
    assert.notEqual(original.headers.get("etag"), etag);

    // The injected tag revalidates the injected page; the plain file's tag does not.
    await client.send(`GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: ${etag}\r\n\r\n`);
    assert.equal((await client.response()).status, 304);
    await client.send(
      `GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: ${original.headers.get("etag")}\r\n\r\n`,
    );
    assert.equal((await client.response()).status, 200);

    // A Range is ignored (the whole page, 200), and no coding is applied.
    await client.send(
      "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-3\r\nAccept-Encoding: gzip, br\r\n\r\n",
    );
    const whole = await client.response();
    assert.equal(whole.status, 200);
    assert.equal(whole.body, expected);
    assert.equal(whole.headers.get("content-encoding"), undefined);
    assert.equal(whole.headers.get("accept-ranges"), undefined);

    // HEAD: the same length, no body.
    await client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    const head = await client.response(true);
    assert.equal(head.headers.get("content-length"), page.headers.get("content-length"));

    // No </body>: appended. Not HTML: untouched.
    await client.send("GET /bare.html HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await client.response()).body, `<p>no body tag${SCRIPT_TAG}`);
    await client.send("GET /notes.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await client.response()).body, "</body> is not HTML here");
  } finally {
    client.close();
    plainClient.close();
  }
});

Deno.test("live reload: a precompressed page is not sent; the injected identity page is", async () => {
  const gz = new Uint8Array(
    await new Response(
      new Blob([PAGE]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  await using dev = await startDev({ watch: true }, { "index.html": PAGE });
  await Deno.writeFile(`${dev.root}/index.html.gz`, gz);
  const client = await Client.connect(dev.port);
  try {
    await client.send("GET /index.html HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
    const page = await client.response();
    assert.equal(page.headers.get("content-encoding"), undefined);
    assert.ok(page.body.includes(SCRIPT_TAG));
  } finally {
    client.close();
  }
});

Deno.test("injectMarkup: before the last </body> in any case, else at the end", () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const table: [string, string][] = [
    ["<body>x</body>", "<body>x<s></body>"],
    ["<body>x</BODY >", "<body>x<s></BODY >"],
    ["<p>`</body>` in text</p></body></html>", "<p>`</body>` in text</p><s></body></html>"],
    ["no tag", "no tag<s>"],
    ["", "<s>"],
    ["</bod", "</bod<s>"],
    ["é</body>", "é<s></body>"],
  ];
  for (const [html, expected] of table) {
    assert.equal(decoder.decode(injectMarkup(encoder.encode(html), "<s>")), expected, html);
  }
});

Deno.test("live reload: closing the dev server ends open event streams", async () => {
  const dev = await startDev({ watch: true }, { "index.html": PAGE });
  using client = await RawClient.connect(dev.port);
  await client.send(`GET ${EVENTS_PATH} HTTP/1.1\r\nHost: a\r\n\r\n`);
  await client.until((t) => t.includes(": sockserve live reload"), "the greeting");
  const closing = dev[Symbol.asyncDispose]();
  const text = await client.until((t) => t.endsWith("0\r\n\r\n"), "the end of the stream");
  client[Symbol.dispose]();
  await closing;
  assert.equal(parseResponses(text).length, 1);
});
