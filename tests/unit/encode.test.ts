/**
 * Response heads (src/encode.ts): the bytes a repeated head is copied from must be the head that
 * `encodeHead` makes of the same parts, and no head may be taken for another.
 */
import assert from "node:assert/strict";
import {
  contentTypeFields,
  type EncodedFields,
  encodeFields,
  encodeHead,
  RepeatedHead,
  type ResponseFraming,
} from "../../src/http1/encode.ts";

type Parts = [
  minor: number,
  status: number,
  statusText: string,
  fields: EncodedFields,
  framing: ResponseFraming,
  close: boolean,
  now: number,
];

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0, 250);
const TEXT = contentTypeFields("text/plain");
const BASE: Parts = [1, 200, "", TEXT, { kind: "length", length: 13 }, false, NOW];

const latin1 = new TextDecoder("latin1");

/** The same parts at another time. */
function at(parts: Parts, now: number): Parts {
  const moved = [...parts] as Parts;
  moved[6] = now;
  return moved;
}

function expectedHead([minor, status, text, fields, framing, close, now]: Parts): string {
  return encodeHead(minor, status, text, fields, framing, close, new Date(now).toUTCString());
}

Deno.test("RepeatedHead: the second time in a row, the bytes of the head encodeHead makes", () => {
  const heads = new RepeatedHead();
  assert.equal(heads.bytes(...BASE), null, "first sight");
  const bytes = heads.bytes(...BASE);
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(latin1.decode(bytes), expectedHead(BASE));
  assert.equal(heads.bytes(...BASE), bytes, "later sights share them");
  // Within the same second, the Date is the same.
  assert.equal(heads.bytes(...at(BASE, NOW + 700)), bytes);
});

/** Each part changed alone: never the bytes of the head before. */
const CHANGES: [string, (parts: Parts) => void][] = [
  ["HTTP/1.0", (p) => p[0] = 0],
  ["another status", (p) => p[1] = 404],
  ["a reason phrase", (p) => p[2] = "Fine"],
  ["other fields", (p) => p[3] = contentTypeFields("text/html")],
  [
    "equal fields in another object",
    (p) => p[3] = encodeFields(new Map([["content-type", "text/plain"]])),
  ],
  ["another length", (p) => p[4] = { kind: "length", length: 14 }],
  ["chunked", (p) => p[4] = { kind: "chunked" }],
  ["no framing", (p) => p[4] = { kind: "none" }],
  ["closing", (p) => p[5] = true],
  ["the next second", (p) => p[6] = NOW + 1000],
];

for (const [name, change] of CHANGES) {
  Deno.test(`RepeatedHead: ${name} is another head`, () => {
    const heads = new RepeatedHead();
    heads.bytes(...BASE);
    const before = heads.bytes(...BASE)!;
    const parts = [...BASE] as Parts;
    change(parts);
    assert.equal(heads.bytes(...parts), null, "its first sight");
    const bytes = heads.bytes(...parts);
    assert.ok(bytes !== null && bytes !== before);
    assert.equal(latin1.decode(bytes), expectedHead(parts));
    // Equal fields in another object make the same text, kept anew: the cache compares objects.
    if (name !== "equal fields in another object") {
      assert.notEqual(latin1.decode(bytes), latin1.decode(before));
    }
  });
}

Deno.test("RepeatedHead: a handler's own Date is the head's, whatever the time", () => {
  const fields = encodeFields(new Map([["date", "Tue, 01 Dec 2026 00:00:00 GMT"]]));
  const heads = new RepeatedHead();
  const parts: Parts = [1, 200, "", fields, { kind: "length", length: 0 }, false, NOW];
  heads.bytes(...parts);
  const bytes = heads.bytes(...at(parts, NOW + 5000));
  assert.ok(bytes !== null, "the clock does not matter to it");
  assert.match(latin1.decode(bytes), /\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\n/);
  assert.equal(latin1.decode(bytes).match(/date:/g)?.length, 1);
});

Deno.test("RepeatedHead: a head with a character over 255 is never kept, and still refused", () => {
  const heads = new RepeatedHead();
  const parts: Parts = [1, 200, "", encodeFields(new Map([["x-a", "ĀĀ"]])), BASE[4], false, NOW];
  assert.equal(heads.bytes(...parts), null);
  assert.equal(heads.bytes(...parts), null, "no bytes to copy: the caller encodes it, and fails");
});

Deno.test("contentTypeFields: as encodeFields gives one Content-Type, and none for null", () => {
  for (const value of ["text/plain;charset=UTF-8", "application/json", "image/png"]) {
    assert.deepEqual(contentTypeFields(value), encodeFields(new Map([["content-type", value]])));
    assert.equal(contentTypeFields(value), contentTypeFields(value), "kept while it repeats");
  }
  assert.deepEqual(contentTypeFields(null), encodeFields(new Map()));
  assert.throws(() => contentTypeFields("a\r\nx-injected: 1"), /CR, LF or NUL/);
});
