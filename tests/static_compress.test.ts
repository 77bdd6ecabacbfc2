/**
 * Content codings: precompressed siblings, compression on the fly, and when not to compress.
 * Bodies are checked as the bytes on the wire (curl without --compressed keeps them coded).
 */
import assert from "node:assert/strict";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { MIN_COMPRESS_SIZE } from "../src/static/compress.ts";
import { run } from "./helpers.ts";
import { type Site, site, text } from "./static_fixture.ts";

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

Deno.test("compression on the fly: br preferred, gzip when asked, identity otherwise", async () => {
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

Deno.test("precompressed siblings are served as they are, per Accept-Encoding", async () => {
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

Deno.test("small files, incompressible types and ranges are sent as they are", async () => {
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

Deno.test("curl --compressed gets the original bytes back", async () => {
  await using s = await site({ files: { "app.js": APP } });
  const result = await run("curl", ["-sS", "--compressed", `${s.origin}/app.js`]);
  assert.equal(result.stdout, APP);
});
