/** Table-driven tests of the request-head parser: valid heads and invalid ones with their status. */
import assert from "node:assert/strict";
import { findHeadEnd, parseHead, type RequestHead } from "../../src/http1/parse.ts";
import { HttpError } from "../../src/errors.ts";
import { DEFAULT_LIMITS } from "../../src/options.ts";

const encoder = new TextEncoder();

/** Parses `text` as the parser sees it: found by `findHeadEnd`, then parsed. */
function parse(text: string, limits = DEFAULT_LIMITS): RequestHead {
  const bytes = encoder.encode(text);
  const end = findHeadEnd(bytes, 0, 0, bytes.length);
  assert.notEqual(end, -1, "head end not found");
  return parseHead(bytes.subarray(0, end), 0, end, limits);
}

function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

interface Valid {
  name: string;
  head: string;
  method?: string;
  target?: string;
  form?: RequestHead["form"];
  minor?: number;
  fields?: string[];
}

const H = "Host: example.com\r\n";
const valid: Valid[] = [
  { name: "simple GET", head: `GET / HTTP/1.1\r\n${H}\r\n`, method: "GET", target: "/", minor: 1 },
  { name: "HTTP/1.0 without Host", head: "GET /a HTTP/1.0\r\n\r\n", minor: 0, fields: [] },
  { name: "HTTP/1.0 with Host", head: `GET / HTTP/1.0\r\n${H}\r\n`, minor: 0 },
  {
    name: "origin-form with query",
    head: `GET /a/b?c=d&e HTTP/1.1\r\n${H}\r\n`,
    target: "/a/b?c=d&e",
  },
  {
    name: "percent-encoded target",
    head: `GET /%7Euser/a%20b HTTP/1.1\r\n${H}\r\n`,
    target: "/%7Euser/a%20b",
  },
  {
    name: "absolute-form http",
    head: `GET http://example.com/x HTTP/1.1\r\n${H}\r\n`,
    form: "absolute",
  },
  {
    name: "absolute-form https upper-case scheme",
    head: `GET HTTPS://example.com/ HTTP/1.1\r\n${H}\r\n`,
    form: "absolute",
  },
  { name: "asterisk-form OPTIONS", head: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, form: "asterisk" },
  { name: "POST", head: `POST /form HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\n`, method: "POST" },
  {
    name: "extension method token",
    head: `PURGE-ALL /x HTTP/1.1\r\n${H}\r\n`,
    method: "PURGE-ALL",
  },
  { name: "method case kept", head: `get / HTTP/1.1\r\n${H}\r\n`, method: "get" },
  {
    name: "M-SEARCH (SSDP)",
    head: `M-SEARCH * HTTP/1.1\r\n${H}\r\n`,
    method: "M-SEARCH",
    form: "asterisk",
  },
  {
    name: "names lower-cased",
    head: `GET / HTTP/1.1\r\nHOST: a\r\nX-Thing: 1\r\n\r\n`,
    fields: ["host", "a", "x-thing", "1"],
  },
  {
    name: "OWS trimmed both sides",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: \t v \t\r\n\r\n`,
    fields: ["host", "a", "x", "v"],
  },
  {
    name: "no OWS at all",
    head: `GET / HTTP/1.1\r\nHost:a\r\nX:v\r\n\r\n`,
    fields: ["host", "a", "x", "v"],
  },
  {
    name: "inner spaces kept",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a  b\tc\r\n\r\n`,
    fields: ["host", "a", "x", "a  b\tc"],
  },
  {
    name: "empty value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n`,
    fields: ["host", "a", "x", ""],
  },
  { name: "empty Host is allowed", head: `GET / HTTP/1.1\r\nHost:\r\n\r\n`, fields: ["host", ""] },
  {
    name: "repeated field kept in order",
    head: `GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 2\r\n\r\n`,
    fields: ["host", "a", "a", "1", "a", "2"],
  },
  {
    name: "token punctuation in names",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX-!#$%&'*+.^_\`|~: v\r\n\r\n`,
    fields: ["host", "a", "x-!#$%&'*+.^_`|~", "v"],
  },
  {
    name: "obs-text in value kept as Latin-1",
    head: "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n",
    fields: ["host", "a", "x", "caf\xe9"],
  },
  {
    name: "quoted value with commas",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: "a, b", c\r\n\r\n`,
    fields: ["host", "a", "x", '"a, b", c'],
  },
  {
    name: "target with all sub-delims",
    head: `GET /!$&'()*+,;=:@-._~ HTTP/1.1\r\n${H}\r\n`,
    target: "/!$&'()*+,;=:@-._~",
  },
  {
    name: "Host with port",
    head: `GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n`,
    fields: ["host", "example.com:8080"],
  },
  {
    name: "IPv6 Host",
    head: `GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n`,
    fields: ["host", "[::1]:8000"],
  },
];

for (const c of valid) {
  Deno.test(`parse accepts: ${c.name}`, () => {
    const bytes = latin1Bytes(c.head);
    const end = findHeadEnd(bytes, 0, 0, bytes.length);
    assert.equal(end, bytes.length);
    const head = parseHead(bytes, 0, end, DEFAULT_LIMITS);
    if (c.method !== undefined) assert.equal(head.method, c.method);
    if (c.target !== undefined) assert.equal(head.target, c.target);
    assert.equal(head.form, c.form ?? "origin");
    if (c.minor !== undefined) assert.equal(head.minor, c.minor);
    if (c.fields !== undefined) assert.deepEqual(head.fields, c.fields);
  });
}

interface Invalid {
  name: string;
  head: string;
  status: number;
  /** A word the error message must contain, so it says what was wrong. */
  says: string;
}

const invalid: Invalid[] = [
  // request line
  { name: "empty method", head: ` / HTTP/1.1\r\n${H}\r\n`, status: 400, says: "method" },
  {
    name: "two spaces after method",
    head: `GET  / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "tab instead of space",
    head: `GET\t/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "method",
  },
  {
    name: "method with a separator",
    head: `GE(T / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "method",
  },
  {
    name: "method with 8-bit byte",
    head: `G\xc9T / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "method",
  },
  { name: "missing target", head: `GET HTTP/1.1\r\n${H}\r\n`, status: 400, says: "request-target" },
  {
    name: "space inside target",
    head: `GET /a b HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "version",
  },
  {
    name: "8-bit byte in target",
    head: `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "control byte in target",
    head: `GET /a\x01 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "NUL in target",
    head: `GET /a\x00b HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "trailing space after version",
    head: `GET / HTTP/1.1 \r\n${H}\r\n`,
    status: 400,
    says: "version",
  },
  { name: "lower-case version", head: `GET / http/1.1\r\n${H}\r\n`, status: 400, says: "version" },
  { name: "version without minor", head: `GET / HTTP/1\r\n${H}\r\n`, status: 400, says: "version" },
  { name: "two-digit major", head: `GET / HTTP/11.1\r\n${H}\r\n`, status: 400, says: "version" },
  { name: "HTTP/2.0", head: `GET / HTTP/2.0\r\n${H}\r\n`, status: 505, says: "not supported" },
  { name: "HTTP/0.9", head: `GET / HTTP/0.9\r\n${H}\r\n`, status: 505, says: "not supported" },
  { name: "HTTP/1.2", head: `GET / HTTP/1.2\r\n${H}\r\n`, status: 505, says: "not supported" },
  { name: "HTTP/3.0", head: `GET / HTTP/3.0\r\n${H}\r\n`, status: 505, says: "not supported" },
  {
    name: "no version at all (HTTP/0.9 style)",
    head: `GET /\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  { name: "asterisk with GET", head: `GET * HTTP/1.1\r\n${H}\r\n`, status: 400, says: "OPTIONS" },
  {
    name: "authority-form without CONNECT",
    head: `GET example.com:80 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "absolute",
  },
  {
    name: "CONNECT",
    head: `CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`,
    status: 501,
    says: "CONNECT",
  },
  {
    name: "relative target",
    head: `GET a/b HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "ftp absolute target",
    head: `GET ftp://example.com/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  {
    name: "absolute target without host",
    head: `GET http:///x HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  // line endings
  {
    name: "bare LF after request line",
    head: `GET / HTTP/1.1\n${H}\r\n`,
    status: 400,
    says: "bare LF",
  },
  {
    name: "bare LF after a field",
    head: `GET / HTTP/1.1\r\nHost: a\n\r\n`,
    status: 400,
    says: "bare LF",
  },
  { name: "bare LF everywhere", head: `GET / HTTP/1.1\nHost: a\n\n`, status: 400, says: "bare LF" },
  {
    name: "bare LF as the empty line",
    head: `GET / HTTP/1.1\r\nHost: a\r\n\n`,
    status: 400,
    says: "bare LF",
  },
  {
    name: "bare CR in a value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n`,
    status: 400,
    says: "bare CR",
  },
  {
    name: "bare CR at end of version",
    head: `GET / HTTP/1.1\r\r\n${H}\r\n`,
    status: 400,
    says: "CR",
  },
  {
    name: "bare CR in request line",
    head: `GET /\r HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    says: "request-target",
  },
  // fields
  {
    name: "space before colon",
    head: `GET / HTTP/1.1\r\nHost : a\r\n\r\n`,
    status: 400,
    says: "whitespace",
  },
  {
    name: "tab before colon",
    head: `GET / HTTP/1.1\r\nHost\t: a\r\n\r\n`,
    status: 400,
    says: "whitespace",
  },
  {
    name: "Transfer-Encoding with space before colon",
    head: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n`,
    status: 400,
    says: "whitespace",
  },
  {
    name: "obs-fold with space",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n`,
    status: 400,
    says: "folding",
  },
  {
    name: "obs-fold with tab",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n`,
    status: 400,
    says: "folding",
  },
  {
    name: "leading whitespace on first field",
    head: `GET / HTTP/1.1\r\n Host: a\r\n\r\n`,
    status: 400,
    says: "folding",
  },
  {
    name: "no colon",
    head: `GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n`,
    status: 400,
    says: "colon",
  },
  {
    name: "empty field name",
    head: `GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n`,
    status: 400,
    says: "empty field name",
  },
  {
    name: "separator in field name",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n`,
    status: 400,
    says: "token",
  },
  {
    name: "8-bit byte in field name",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX\xe9: v\r\n\r\n`,
    status: 400,
    says: "token",
  },
  {
    name: "NUL in value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n`,
    status: 400,
    says: "0x00",
  },
  {
    name: "DEL in value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n`,
    status: 400,
    says: "0x7f",
  },
  {
    name: "vertical tab in value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n`,
    status: 400,
    says: "0x0b",
  },
  {
    name: "escape in value",
    head: `GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n`,
    status: 400,
    says: "0x1b",
  },
  // Host rules
  {
    name: "HTTP/1.1 without Host",
    head: "GET / HTTP/1.1\r\nX: y\r\n\r\n",
    status: 400,
    says: "Host",
  },
  {
    name: "two Host fields",
    head: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    status: 400,
    says: "Host",
  },
  {
    name: "two Host fields, different case",
    head: "GET / HTTP/1.1\r\nHost: a\r\nhOST: a\r\n\r\n",
    status: 400,
    says: "Host",
  },
  {
    name: "two Host fields in HTTP/1.0",
    head: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
    status: 400,
    says: "Host",
  },
];

for (const c of invalid) {
  Deno.test(`parse rejects with ${c.status}: ${c.name}`, () => {
    const bytes = latin1Bytes(c.head);
    const end = findHeadEnd(bytes, 0, 0, bytes.length);
    assert.notEqual(end, -1, "the head end must be found so the parser can refuse it");
    assert.throws(
      () => parseHead(bytes.subarray(0, end), 0, end, DEFAULT_LIMITS),
      (error: unknown) => {
        assert.ok(error instanceof HttpError, `expected HttpError, got ${error}`);
        assert.equal(error.status, c.status, error.message);
        assert.ok(
          error.message.includes(c.says),
          `message "${error.message}" should mention "${c.says}"`,
        );
        return true;
      },
    );
  });
}

Deno.test("parse limits: request line over maxUriBytes gives 414", () => {
  const limits = { ...DEFAULT_LIMITS, maxUriBytes: 64 };
  // "GET /" + n + " HTTP/1.1" is 14 + n bytes.
  const ok = `GET /${"a".repeat(64 - 14)} HTTP/1.1\r\n${H}\r\n`;
  assert.equal(parse(ok, limits).method, "GET");
  const long = `GET /${"a".repeat(64 - 13)} HTTP/1.1\r\n${H}\r\n`;
  assert.throws(() => parse(long, limits), (e: HttpError) => e.status === 414);
});

Deno.test("parse limits: header section over maxHeaderBytes gives 431", () => {
  const limits = { ...DEFAULT_LIMITS, maxHeaderBytes: 100 };
  const fields = (n: number) => `Host: a\r\nX: ${"v".repeat(n)}\r\n`;
  // The header section counted is the field lines with their CRLFs: 9 + 5 + n bytes.
  assert.equal(parse(`GET / HTTP/1.1\r\n${fields(86)}\r\n`, limits).fields[3].length, 86);
  assert.throws(
    () => parse(`GET / HTTP/1.1\r\n${fields(87)}\r\n`, limits),
    (e: HttpError) => e.status === 431,
  );
});

Deno.test("parse limits: more than maxHeaderCount fields gives 431", () => {
  const head = (n: number) =>
    `GET / HTTP/1.1\r\nHost: a\r\n${
      Array.from({ length: n - 1 }, (_, i) => `X${i}: v\r\n`).join("")
    }\r\n`;
  // 1 and 2: the first field and the second, where the list of fields is made and first grows.
  for (const max of [1, 2, 5]) {
    const limits = { ...DEFAULT_LIMITS, maxHeaderCount: max };
    assert.equal(parse(head(max), limits).fields.length, 2 * max, `${max} fields`);
    assert.throws(() => parse(head(max + 1), limits), (e: HttpError) => e.status === 431);
  }
  // HTTP/1.0 needs no Host: a head without fields has an empty list.
  assert.deepEqual(parse("GET / HTTP/1.0\r\n\r\n", DEFAULT_LIMITS).fields, []);
});

Deno.test("findHeadEnd: bytes past `to` (a reader's old ones) are never looked at", () => {
  const head = `GET / HTTP/1.1\r\n${H}\r\n`;
  // What the buffer holds past the new bytes: an older head's end, bare LFs, zeros, nothing.
  const stale = ["\r\n\r\nGET /old HTTP/1.1\r\n\r\n", "\n\n\n", "\0".repeat(64), ""];
  for (const old of stale) {
    const bytes = encoder.encode(head + old);
    assert.equal(findHeadEnd(bytes, 0, 0, head.length), head.length, JSON.stringify(old));
    // Cut anywhere before its end, the head is not found, whatever the old bytes say.
    for (let cut = 0; cut < head.length; cut++) {
      assert.equal(findHeadEnd(bytes, 0, 0, cut), -1, `${JSON.stringify(old)} cut at ${cut}`);
    }
  }
});

Deno.test("findHeadEnd: incomplete heads are not found, wherever the search resumes", () => {
  const full = encoder.encode(`GET / HTTP/1.1\r\n${H}\r\n`);
  for (let cut = 0; cut < full.length; cut++) {
    assert.equal(findHeadEnd(full.subarray(0, cut), 0, 0, cut), -1, `cut at ${cut}`);
  }
  // Resuming the scan two bytes before the new data (the reader's overlap) still finds the end.
  for (let cut = 0; cut < full.length; cut++) {
    const from = Math.max(0, cut - 2);
    assert.equal(findHeadEnd(full, 0, from, full.length), full.length, `resume at ${cut}`);
  }
});
