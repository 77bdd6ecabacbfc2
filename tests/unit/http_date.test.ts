/** IMF-fixdate by arithmetic: the text `toUTCString` gives, for every date the format can hold. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { imfFixdate } from "../../src/http1/date.ts";

Deno.test("imfFixdate: known dates, leap days and the edges of the calendar", () => {
  const table: [string, number][] = [
    ["Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777_000], // RFC 9110 §5.6.7's own example
    ["Thu, 01 Jan 1970 00:00:00 GMT", 0],
    ["Wed, 31 Dec 1969 23:59:59 GMT", -1], // a millisecond before the epoch: the second it is in
    ["Thu, 01 Jan 1970 00:00:00 GMT", 999], // milliseconds are dropped, not rounded
    ["Tue, 29 Feb 2000 12:00:00 GMT", Date.UTC(2000, 1, 29, 12)], // divisible by 400: leap
    ["Thu, 01 Mar 1900 00:00:00 GMT", Date.UTC(1900, 2, 1)], // divisible by 100: not leap
    ["Mon, 01 Mar 2100 00:00:00 GMT", Date.UTC(2100, 2, 1)],
    ["Thu, 29 Feb 2024 23:59:59 GMT", Date.UTC(2024, 1, 29, 23, 59, 59)],
    ["Fri, 31 Dec 9999 23:59:59 GMT", Date.UTC(9999, 11, 31, 23, 59, 59, 999)],
    ["Sat, 01 Jan 0000 00:00:00 GMT", new Date("0000-01-01T00:00:00Z").getTime()], // Date.UTC maps 0 to 1900
  ];
  for (const [text, ms] of table) assert.equal(imfFixdate(ms), text, `at ${ms}`);
});

Deno.test("imfFixdate: a year the four digits cannot hold is toUTCString's", () => {
  for (const ms of [Date.UTC(10000, 0, 1), new Date("-000001-12-31T00:00:00Z").getTime()]) {
    assert.equal(imfFixdate(ms), new Date(ms).toUTCString());
  }
});

Deno.test("imfFixdate: the same text as toUTCString from year 0 to 9999", () => {
  const first = new Date("0000-01-01T00:00:00Z").getTime();
  const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  fc.assert(
    fc.property(fc.integer({ min: first, max: last }), (ms) => {
      assert.equal(imfFixdate(ms), new Date(ms).toUTCString());
    }),
    { numRuns: 20_000 },
  );
});
