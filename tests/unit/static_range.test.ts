/** Range requests (RFC 9110 §14): the parser's table, then the wire and curl. */
import assert from "node:assert/strict";
import { MAX_RANGES, parseRange } from "../../src/static/range.ts";
import { run } from "../helpers.ts";
import { site, text } from "../static_fixture.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

Deno.test("parseRange: satisfiable, unsatisfiable, ignored, coalesced", () => {
  const r = (first: number, last: number) => ({ first, last });
  const table: [string, number, ReturnType<typeof parseRange>][] = [
    ["bytes=0-99", 1000, { kind: "ranges", ranges: [r(0, 99)] }],
    ["bytes=500-", 1000, { kind: "ranges", ranges: [r(500, 999)] }],
    ["bytes=-500", 1000, { kind: "ranges", ranges: [r(500, 999)] }],
    ["bytes=-5000", 1000, { kind: "ranges", ranges: [r(0, 999)] }],
    ["bytes=990-2000", 1000, { kind: "ranges", ranges: [r(990, 999)] }],
    ["BYTES = 1-2 , 5-6", 1000, { kind: "ranges", ranges: [r(1, 2), r(5, 6)] }],
    ["bytes=5-6,1-2", 1000, { kind: "ranges", ranges: [r(5, 6), r(1, 2)] }], // order kept
    ["bytes=0-10,5-20,30-40", 1000, { kind: "ranges", ranges: [r(0, 20), r(30, 40)] }],
    ["bytes=0-,0-,0-", 1000, { kind: "ranges", ranges: [r(0, 999)] }], // no amplification
    ["bytes=0-1,2000-3000", 1000, { kind: "ranges", ranges: [r(0, 1)] }],
    ["bytes=1000-", 1000, { kind: "unsatisfiable" }],
    ["bytes=-0", 1000, { kind: "unsatisfiable" }],
    ["bytes=5-1", 1000, { kind: "ignore" }],
    ["bytes=a-b", 1000, { kind: "ignore" }],
    ["bytes=-", 1000, { kind: "ignore" }],
    ["bytes=", 1000, { kind: "ignore" }],
    ["items=0-5", 1000, { kind: "ignore" }],
    ["bytes=0-5", 0, { kind: "ignore" }],
    [`bytes=${Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`)}`, 1000, {
      kind: "ignore",
    }],
  ];
  for (const [header, size, expected] of table) {
    assert.deepEqual(parseRange(header, size), expected, `${header} / ${size}`);
  }
});

const BODY = text(5000);

Deno.test("single, suffix and open ranges answer 206 with the exact bytes", async () => {
  await using s = await site({ files: { "data.txt": BODY } });
  const table: [string, number, number][] = [
    ["bytes=0-99", 0, 99],
    ["bytes=-500", 4500, 4999],
    ["bytes=4990-", 4990, 4999],
    ["bytes=100-100", 100, 100],
  ];
  for (const [range, first, last] of table) {
    const response = await s.request("/data.txt", { range, "accept-encoding": "gzip, br" });
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get("content-range"), `bytes ${first}-${last}/5000`);
    assert.equal(response.headers.get("content-length"), String(last - first + 1));
    assert.equal(response.body, BODY.slice(first, last + 1));
    assert.equal(response.headers.get("accept-ranges"), "bytes");
    assert.ok(!response.headers.has("content-encoding"), "ranges are never compressed");
  }
});

Deno.test("several ranges answer multipart/byteranges with a part per range", async () => {
  await using s = await site({ files: { "data.txt": BODY } });
  const response = await s.request("/data.txt", { range: "bytes=0-9,100-149,-5" });
  assert.equal(response.status, 206);
  const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(
    response.headers.get("content-type")!,
  )?.[1];
  assert.ok(boundary);
  assert.equal(Number(response.headers.get("content-length")), response.body.length);
  const parts = response.body.split(`--${boundary}`);
  assert.equal(parts.at(-1), "--\r\n"); // the closing delimiter
  const expected = [[0, 9], [100, 149], [4995, 4999]];
  const bodies = parts.slice(1, -1).map((part) => {
    const [head, data] = part.split("\r\n\r\n");
    return { head, data: data.replace(/\r\n$/, "") };
  });
  assert.equal(bodies.length, 3);
  bodies.forEach(({ head, data }, i) => {
    const [first, last] = expected[i];
    assert.match(head, /Content-Type: text\/plain; charset=utf-8/);
    assert.match(head, new RegExp(`Content-Range: bytes ${first}-${last}/5000`));
    assert.equal(data, BODY.slice(first, last + 1));
  });
});

Deno.test("an unsatisfiable range is 416 with Content-Range: bytes */size", async () => {
  await using s = await site({ files: { "data.txt": BODY } });
  const response = await s.request("/data.txt", { range: "bytes=5000-6000" });
  assert.equal(response.status, 416);
  assert.equal(response.headers.get("content-range"), "bytes */5000");
});

Deno.test("If-Range: a matching ETag or date gives the range, anything else the whole file", async () => {
  await using s = await site({ files: { "data.txt": BODY } });
  const full = await s.request("/data.txt");
  const etag = full.headers.get("etag")!;
  const lastModified = full.headers.get("last-modified")!;
  const table: [string, number][] = [
    [etag, 206],
    [lastModified, 206],
    ['"stale"', 200],
    [`W/${etag}`, 200], // weak tags never match for If-Range
    ["Thu, 01 Jan 1970 00:00:00 GMT", 200],
  ];
  for (const [ifRange, status] of table) {
    const response = await s.request("/data.txt", { range: "bytes=0-9", "if-range": ifRange });
    assert.equal(response.status, status, ifRange);
    assert.equal(response.body, status === 206 ? BODY.slice(0, 10) : BODY);
  }
});

Deno.test("HEAD and unknown units ignore Range", async () => {
  await using s = await site({ files: { "data.txt": BODY } });
  const head = await s.request("/data.txt", { range: "bytes=0-9" }, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "5000");
  const items = await s.request("/data.txt", { range: "items=0-9" });
  assert.equal(items.status, 200);
  assert.equal(items.body, BODY);
});

withCurl.test("curl -r 0-99 and a range of a streamed large file", async () => {
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  await using s = await site({ files: { "data.txt": BODY, "big.bin": big } });
  const result = await run("curl", ["-sS", "-r", "0-99", `${s.origin}/data.txt`]);
  assert.equal(result.stdout, BODY.slice(0, 100));
  const out = `${s.dir}/part.bin`;
  const first = 1_000_000, last = 2_500_000;
  const ranged = await run("curl", [
    "-sS",
    "-r",
    `${first}-${last}`,
    "-o",
    out,
    `${s.origin}/big.bin`,
  ]);
  assert.equal(ranged.code, 0);
  assert.deepEqual(await Deno.readFile(out), big.slice(first, last + 1));
});
