/** Validators and conditional requests (RFC 9110 §13) over real sockets, and with curl. */
import assert from "node:assert/strict";
import { parseHttpDate } from "../../src/static/conditional.ts";
import { run } from "../helpers.ts";
import { site } from "../static_fixture.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

const MTIME = new Date("2024-03-10T12:34:56.789Z");
const LAST_MODIFIED = "Sun, 10 Mar 2024 12:34:56 GMT";
const BEFORE = "Sun, 10 Mar 2024 12:34:55 GMT";
const AFTER = "Sun, 10 Mar 2024 12:34:57 GMT";

async function dated() {
  const s = await site({ files: { "page.txt": "hello, validators" } });
  await Deno.utime(`${s.root}/page.txt`, MTIME, MTIME);
  const etag = (await s.request("/page.txt")).headers.get("etag")!;
  return { s, etag };
}

Deno.test("every file carries a strong ETag and Last-Modified; the ETag follows the content", async () => {
  const { s, etag } = await dated();
  await using _ = s;
  const response = await s.request("/page.txt");
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal(response.headers.get("last-modified"), LAST_MODIFIED);
  await Deno.writeTextFile(`${s.root}/page.txt`, "changed content!");
  assert.notEqual((await s.request("/page.txt")).headers.get("etag"), etag);
});

Deno.test("preconditions in the order of RFC 9110 §13.2.2", async () => {
  const { s, etag } = await dated();
  await using _ = s;
  const table: [Record<string, string>, number][] = [
    [{}, 200],
    [{ "if-none-match": etag }, 304],
    [{ "if-none-match": `W/${etag}` }, 304], // weak comparison
    [{ "if-none-match": `"other", ${etag}` }, 304],
    [{ "if-none-match": "*" }, 304],
    [{ "if-none-match": '"other"' }, 200],
    [{ "if-modified-since": LAST_MODIFIED }, 304],
    [{ "if-modified-since": AFTER }, 304],
    [{ "if-modified-since": BEFORE }, 200],
    [{ "if-modified-since": "yesterday" }, 200], // not a date: ignored
    [{ "if-none-match": '"other"', "if-modified-since": AFTER }, 200], // INM wins over IMS
    [{ "if-match": etag }, 200],
    [{ "if-match": "*" }, 200],
    [{ "if-match": '"other"' }, 412],
    [{ "if-match": `W/${etag}` }, 412], // strong comparison
    [{ "if-unmodified-since": AFTER }, 200],
    [{ "if-unmodified-since": LAST_MODIFIED }, 200],
    [{ "if-unmodified-since": BEFORE }, 412],
    [{ "if-match": etag, "if-unmodified-since": BEFORE }, 200], // IM present: IUS ignored
    [{ "if-match": '"other"', "if-none-match": etag }, 412], // 412 is checked first
    [{ "if-match": etag, "if-none-match": etag }, 304],
  ];
  for (const [headers, status] of table) {
    for (const method of ["GET", "HEAD"]) {
      const response = await s.request("/page.txt", headers, method);
      assert.equal(response.status, status, `${method} ${JSON.stringify(headers)}`);
      if (status === 304) {
        assert.equal(response.headers.get("etag"), etag);
        assert.equal(response.headers.get("vary"), "Accept-Encoding");
        // Nothing after the head: the raw bytes end with the blank line.
        assert.ok(response.raw.endsWith("\r\n\r\n"), "304 has no body");
        assert.ok(!response.headers.has("content-type"));
      }
    }
  }
});

withCurl.test("curl -H 'If-None-Match: …' gets 304 with an empty body", async () => {
  const { s, etag } = await dated();
  await using _ = s;
  const result = await run("curl", [
    "-sS",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code} %{size_download}",
    "-H",
    `If-None-Match: ${etag}`,
    `${s.origin}/page.txt`,
  ]);
  assert.equal(result.stdout, "304 0");
});

Deno.test("parseHttpDate reads the three HTTP-date formats as GMT and refuses the rest", () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
  const table: [string, number | null][] = [
    ["Sun, 06 Nov 1994 08:49:37 GMT", expected],
    ["Sunday, 06-Nov-94 08:49:37 GMT", expected],
    ["Sun Nov  6 08:49:37 1994", expected],
    ["Sun, 06 Nov 1994 08:49:37 UTC", null],
    ["Sun, 31 Feb 1994 08:49:37 GMT", null],
    ["Sun, 06 Nov 1994 25:49:37 GMT", null],
    ["1994-11-06T08:49:37Z", null],
    ["", null],
  ];
  for (const [input, ms] of table) assert.equal(parseHttpDate(input), ms, input);
});
