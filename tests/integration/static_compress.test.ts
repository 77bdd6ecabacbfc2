/**
 * Content codings: precompressed siblings, compression on the fly, and when not to compress.
 * Bodies are checked as the bytes on the wire (curl without --compressed keeps them coded).
 */
import assert from "node:assert/strict";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import type { Answer } from "../../src/handler/direct.ts";
import { FileCache } from "../../src/static/cache.ts";
import { MIN_COMPRESS_SIZE } from "../../src/static/compress.ts";
import { fileAnswer, type FileResponseOptions } from "../../src/static/file_response.ts";
import { loadTypes } from "../../src/static/mime.ts";
import { openRoot } from "../../src/static/path.ts";
import { run } from "../helpers.ts";
import { type Site, site, text } from "../static_fixture.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

const APP = text(20_000, "app.js");

/** GET with curl; the body as raw bytes and the headers as a map. */
async function fetchRaw(s: Site, path: string, headers: string[] = []) {
  const out = `${s.dir}/body-${crypto.randomUUID()}`;
  const result = await run("curl", [
    "-sS",
    "-D",
    "-",
    "-o",
    out,
    ...headers.flatMap((h) => ["-H", h]),
    `${s.origin}${path}`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const map = new Map<string, string>();
  for (const line of result.stdout.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) map.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = await Deno.readFile(out).catch(() => new Uint8Array());
  return { status: Number(result.stdout.split(" ")[1]), headers: map, body };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

withCurl.test("compression on the fly: br preferred, gzip when asked, identity otherwise", async () => {
  await using s = await site({ files: { "app.js": APP } });
  const table: [string | null, string | null][] = [
    ["gzip, deflate, br, zstd", "br"],
    ["gzip", "gzip"],
    ["br;q=0.5, gzip", "gzip"], // the client's weights first
    ["*", "br"],
    ["identity", null],
    ["gzip;q=0, br;q=0", null],
    [null, null], // no header: identity, as nginx and Caddy
  ];
  for (const [accept, coding] of table) {
    const response = await fetchRaw(
      s,
      "/app.js",
      accept === null ? [] : [`Accept-Encoding: ${accept}`],
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding") ?? null, coding, String(accept));
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    const plain = coding === "br"
      ? brotliDecompressSync(response.body)
      : coding === "gzip"
      ? gunzipSync(response.body)
      : response.body;
    assert.equal(decode(plain), APP);
    if (coding) {
      assert.ok(response.body.length < APP.length / 3, "actually compressed");
      assert.match(response.headers.get("etag")!, new RegExp(`^W/".*-${coding}"$`));
    }
  }
});

withCurl.test("precompressed siblings are served as they are, per Accept-Encoding", async () => {
  // Distinct content in each sibling proves which file was sent.
  const brCopy = brotliCompressSync(new TextEncoder().encode("from app.js.br"));
  const gzCopy = gzipSync(new TextEncoder().encode("from app.js.gz"));
  await using s = await site({
    files: { "app.js": APP, "app.js.br": brCopy, "app.js.gz": gzCopy },
  });
  const br = await fetchRaw(s, "/app.js", ["Accept-Encoding: gzip, br"]);
  assert.equal(br.headers.get("content-encoding"), "br");
  assert.equal(br.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(br.headers.get("content-length"), String(brCopy.length));
  assert.equal(decode(brotliDecompressSync(br.body)), "from app.js.br");
  const gz = await fetchRaw(s, "/app.js", ["Accept-Encoding: gzip"]);
  assert.equal(decode(gunzipSync(gz.body)), "from app.js.gz");
  const plain = await fetchRaw(s, "/app.js");
  assert.equal(decode(plain.body), APP);
  assert.notEqual(plain.headers.get("etag"), br.headers.get("etag"));
  // The sibling itself, asked for by name, is just a gzip file.
  const direct = await fetchRaw(s, "/app.js.gz", ["Accept-Encoding: gzip"]);
  assert.equal(direct.headers.get("content-type"), "application/gzip");
  assert.ok(!direct.headers.has("content-encoding"));
});

withCurl.test("small files, incompressible types and ranges are sent as they are", async () => {
  const png = new Uint8Array(8000).map((_, i) => i % 256);
  await using s = await site({
    files: { "small.txt": text(MIN_COMPRESS_SIZE - 1), "big.txt": APP, "image.png": png },
  });
  const accept = ["Accept-Encoding: gzip, br"];
  for (
    const [path, extra] of [["/small.txt", []], ["/image.png", []], ["/big.txt", [
      "Range: bytes=0-99",
    ]]]
  ) {
    const response = await fetchRaw(s, path as string, [...accept, ...extra]);
    assert.ok(!response.headers.has("content-encoding"), String(path));
    assert.equal(response.headers.get("vary"), "Accept-Encoding", String(path));
  }
});

withCurl.test("curl --compressed gets the original bytes back", async () => {
  await using s = await site({ files: { "app.js": APP } });
  const result = await run("curl", ["-sS", "--compressed", `${s.origin}/app.js`]);
  assert.equal(result.stdout, APP);
});

const OLD = new Date("2024-03-10T12:00:00Z");
const LATER = new Date("2024-03-10T13:00:00Z");

withCurl.test("compression on the fly: an edit is seen at once, whatever coded bytes were kept", async () => {
  await using s = await site({ files: { "app.js": APP } });
  await Deno.utime(`${s.root}/app.js`, OLD, OLD); // settled: its coded copy may be kept
  const gzip = ["Accept-Encoding: gzip"];
  const first = await fetchRaw(s, "/app.js", gzip);
  assert.equal(decode(gunzipSync(first.body)), APP);
  const kept = await fetchRaw(s, "/app.js", gzip);
  assert.equal(kept.headers.get("content-length"), String(kept.body.length));
  assert.equal(decode(gunzipSync(kept.body)), APP);
  assert.equal(kept.headers.get("etag"), first.headers.get("etag"));
  const head = await s.request("/app.js", { "accept-encoding": "gzip" }, "HEAD");
  assert.equal(head.headers.get("content-length"), String(kept.body.length));
  assert.equal(head.body, "");
  // br is kept apart from gzip.
  const br = await fetchRaw(s, "/app.js", ["Accept-Encoding: br"]);
  assert.equal(decode(brotliDecompressSync(br.body)), APP);

  const edited = text(20_000, "app.js, second version");
  await Deno.writeTextFile(`${s.root}/app.js`, edited);
  await Deno.utime(`${s.root}/app.js`, LATER, LATER);
  for (let i = 0; i < 2; i++) {
    const after = await fetchRaw(s, "/app.js", gzip);
    assert.equal(decode(gunzipSync(after.body)), edited, `request ${i + 1} after the edit`);
    assert.notEqual(after.headers.get("etag"), first.headers.get("etag"));
  }
});

withCurl.test("precompressed siblings: one added to a directory already listed is served at once", async () => {
  await using s = await site({ files: { "app.js": APP } });
  await Deno.utime(`${s.root}/app.js`, OLD, OLD);
  await Deno.utime(s.root, OLD, OLD); // settled: its listing may be kept
  const gzip = ["Accept-Encoding: gzip"];
  for (let i = 0; i < 2; i++) {
    const response = await fetchRaw(s, "/app.js", gzip);
    assert.match(response.headers.get("etag") ?? "", /^W\//, "coded on the fly: no sibling");
  }
  const sibling = "precompressed copy";
  await Deno.writeFile(`${s.root}/app.js.gz`, gzipSync(new TextEncoder().encode(sibling)));
  // The directory changed, and looks settled again (as after a copy that keeps times).
  await Deno.utime(s.root, LATER, LATER);
  const response = await fetchRaw(s, "/app.js", gzip);
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.equal(decode(gunzipSync(response.body)), sibling);
  assert.doesNotMatch(response.headers.get("etag") ?? "", /^W\//);
});

Deno.test("fileAnswer: a coded body, once sent whole, is kept and answers the next requests", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-static-" });
  try {
    const path = `${dir}/app.js`;
    const answer = await gzipAnswers(path, APP);
    const stat = Deno.statSync(path);
    const first = answer(stat);
    assert.equal(first.body?.kind, "stream", "coded on the fly");
    const coded = await readAnswer(first);
    assert.equal(decode(gunzipSync(coded)), APP);

    const second = answer(stat);
    assert.equal(second.body?.kind, "bytes", "kept");
    assert.deepEqual(second.body?.kind === "bytes" && second.body.bytes, coded);
    assert.equal(second.headers.get("content-length"), String(coded.length));
    assert.equal(second.headers.get("content-encoding"), "gzip");
    assert.equal(answer(stat).headers, second.headers, "its fields are shared too");

    // Another stat of the same file finds the kept bytes; a changed file does not.
    assert.equal(answer(Deno.statSync(path)).body?.kind, "bytes");
    await Deno.writeTextFile(path, APP.toUpperCase());
    await Deno.utime(path, LATER, LATER);
    const changed = answer(Deno.statSync(path));
    assert.equal(changed.body?.kind, "stream");
    assert.equal(decode(gunzipSync(await readAnswer(changed))), APP.toUpperCase());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileAnswer: the coded copy of a larger file is kept from its second request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-static-" });
  try {
    const path = `${dir}/big.js`;
    const big = text(200_000, "big.js"); // larger than what is kept from a first request
    const answerTo = await gzipAnswers(path, big);
    const stat = Deno.statSync(path);
    const kinds: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = answerTo(stat);
      kinds.push(answer.body?.kind);
      const coded = answer.body?.kind === "bytes" ? answer.body.bytes : await readAnswer(answer);
      assert.equal(decode(gunzipSync(coded)), big);
    }
    assert.deepEqual(kinds, ["stream", "stream", "bytes"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Writes `content` to `path` (settled, so that its coded copy may be kept), and returns a file
 * server's answer to a GET of it that accepts gzip, for a given `stat` of it.
 */
async function gzipAnswers(path: string, content: string) {
  await loadTypes();
  await Deno.writeTextFile(path, content);
  await Deno.utime(path, OLD, OLD);
  const [dir, name] = [path.slice(0, path.lastIndexOf("/")), path.slice(path.lastIndexOf("/"))];
  const options: FileResponseOptions = {
    root: openRoot(dir, false),
    compress: true,
    cacheControl: null,
    cache: new FileCache(),
    commonFields: [],
    sharedFields: new WeakMap(),
  };
  const view = {
    method: "GET",
    pathname: name,
    search: "",
    headers: new Headers({ "accept-encoding": "gzip" }),
  };
  return (info: Deno.FileInfo): Answer => fileAnswer(view, { path, info }, options);
}

/** The whole body of a streamed answer. */
async function readAnswer(answer: Answer): Promise<Uint8Array> {
  if (answer.body?.kind !== "stream") throw new Error("not a streamed answer");
  return new Uint8Array(await new Response(answer.body.stream).arrayBuffer());
}
